/**
 * ExpiryWheel files keys into buckets of expiry time, so a gc pass visits the keys whose bucket
 * has begun and not every key. The memory store files its index keys here (sessions live in
 * {@link Generations}). Keys are never moved: when a key's expiry lands in another bucket it is
 * filed again, and the copy left in the old bucket is dropped when that bucket is swept. Filing
 * happens only when the bucket changes, so a key refreshed on every request is filed about 64
 * times per lifetime, not once per refresh.
 */
export class ExpiryWheel {
  readonly #width: number;
  #buckets = new Map<number, string[]>();

  /** `lifetime` is the usual time to expiry in ms; a bucket spans 1/64 of it, and at least a second. */
  constructor(lifetime: number) {
    this.#width = Math.max(1000, Math.ceil(lifetime / 64));
  }

  /** file records that `key` now expires at `expiresAt`; `previous` is its expiry before, if it had one. */
  file(key: string, expiresAt: number, previous?: number): void {
    const bucket = this.#bucketOf(expiresAt);
    if (previous !== undefined && this.#bucketOf(previous) === bucket) return;
    const keys = this.#buckets.get(bucket);
    if (keys === undefined) this.#buckets.set(bucket, [key]);
    else keys.push(key);
  }

  /**
   * sweep visits every key filed in a bucket that has begun by `now`. `expiryOf` returns the key's
   * current expiry, or undefined once the caller has removed it (it removes expired keys as it is
   * asked about them). A key stays filed only if its expiry is still in the bucket being swept.
   */
  sweep(now: number, expiryOf: (key: string) => number | undefined): void {
    const current = this.#bucketOf(now);
    for (const [bucket, keys] of this.#buckets) {
      if (bucket > current) continue;
      const kept = keys.filter((key) => {
        const expiresAt = expiryOf(key);
        return expiresAt !== undefined && this.#bucketOf(expiresAt) === bucket;
      });
      if (kept.length === 0) this.#buckets.delete(bucket);
      else this.#buckets.set(bucket, kept);
    }
  }

  /** clear forgets every key. */
  clear(): void {
    this.#buckets = new Map();
  }

  #bucketOf(expiresAt: number): number {
    return Math.floor(expiresAt / this.#width);
  }
}
