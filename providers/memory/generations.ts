/** Generation holds the values whose expiry falls in one slice of time. */
interface Generation<V> {
  readonly values: Map<string, V>;
  /** latest is the latest expiry ever stored here; once it has passed, every value here has expired. */
  latest: number;
}

/**
 * Generations keeps values that expire — the memory store's sessions, and its index keys — in one
 * Map per slice of expiry time, each slice 1/16 of the lifetime. A gc pass drops a slice whose
 * values have all expired in one step and scans only the slices that are partly expired, so it
 * costs a step per slice plus the values of about one slice, never all values. A lookup tries the
 * slices latest first, where live values gather. `expiryOf` reads a value's expiry (epoch ms).
 */
export class Generations<V> {
  readonly #width: number;
  readonly #expiryOf: (value: V) => number;
  readonly #slices = new Map<number, Generation<V>>();
  /** #order lists the slice numbers in ascending order, for the latest-first lookup. */
  #order: number[] = [];

  /** `lifetime` is the usual time to expiry in ms; a slice spans 1/16 of it, and at least a second. */
  constructor(lifetime: number, expiryOf: (value: V) => number) {
    this.#width = Math.max(1000, Math.ceil(lifetime / 16));
    this.#expiryOf = expiryOf;
  }

  /** get returns the value of `id`, live or not. */
  get(id: string): V | undefined {
    const order = this.#order;
    for (let i = order.length - 1; i >= 0; i--) {
      const value = this.#slices.get(order[i]!)!.values.get(id);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /**
   * set stores `value` for `id` in the slice of its expiry; `previousExpiry` is the expiry `id` was
   * stored under before, if it was, so that it moves when its slice changes.
   */
  set(id: string, value: V, previousExpiry: number | undefined): void {
    const expiresAt = this.#expiryOf(value);
    const slice = this.#sliceOf(expiresAt);
    if (previousExpiry !== undefined && this.#sliceOf(previousExpiry) !== slice) this.delete(id, previousExpiry);
    let generation = this.#slices.get(slice);
    if (generation === undefined) {
      generation = { values: new Map(), latest: expiresAt };
      this.#slices.set(slice, generation);
      this.#order = [...this.#slices.keys()].sort((a, b) => a - b);
    }
    generation.values.set(id, value);
    if (expiresAt > generation.latest) generation.latest = expiresAt;
  }

  /** delete removes `id`, stored under `expiresAt`. */
  delete(id: string, expiresAt: number): void {
    const slice = this.#sliceOf(expiresAt);
    const generation = this.#slices.get(slice);
    if (generation?.values.delete(id) && generation.values.size === 0) this.#drop(slice);
  }

  /** size is the number of values held, expired or not. */
  get size(): number {
    let size = 0;
    for (const generation of this.#slices.values()) size += generation.values.size;
    return size;
  }

  /** collect removes every value that has expired by `now` (expiry <= now). */
  collect(now: number): void {
    for (const slice of this.#order) {
      if (slice * this.#width > now) break;
      const generation = this.#slices.get(slice)!;
      if (generation.latest <= now) {
        this.#drop(slice);
        continue;
      }
      for (const [id, value] of generation.values) if (this.#expiryOf(value) <= now) generation.values.delete(id);
      if (generation.values.size === 0) this.#drop(slice);
    }
  }

  /** clear removes every value. */
  clear(): void {
    this.#slices.clear();
    this.#order = [];
  }

  #drop(slice: number): void {
    this.#slices.delete(slice);
    this.#order = this.#order.filter((s) => s !== slice);
  }

  #sliceOf(expiresAt: number): number {
    return Math.floor(expiresAt / this.#width);
  }
}
