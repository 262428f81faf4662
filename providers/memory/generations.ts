/**
 * Each session is one string: its expiry as 13 decimal digits of epoch ms, then the record. One
 * string per session instead of an entry object and a boxed number keeps a small session near
 * 180 heap bytes (see bench/).
 */
const EXPIRY_DIGITS = 13;
const MAX_EXPIRY = 10 ** EXPIRY_DIGITS - 1;

/** pack makes the stored string of a record expiring at `expiresAt` (clamped to 0 … 13 digits). */
export function pack(expiresAt: number, record: string): string {
  const expiry = Math.min(Math.max(Math.floor(expiresAt), 0), MAX_EXPIRY);
  return String(expiry).padStart(EXPIRY_DIGITS, '0') + record;
}

/** expiryOf reads the expiry of a packed string, digit by digit: it runs several times per request, and a slice would allocate. */
export function expiryOf(packed: string): number {
  let expiry = 0;
  for (let i = 0; i < EXPIRY_DIGITS; i++) expiry = expiry * 10 + packed.charCodeAt(i) - 48;
  return expiry;
}

/** recordOf reads the record of a packed string. */
export const recordOf = (packed: string): string => packed.slice(EXPIRY_DIGITS);

/** Generation holds the sessions whose expiry falls in one slice of time. */
interface Generation {
  readonly sessions: Map<string, string>;
  /** latest is the latest expiry ever stored here; once it has passed, every session here has expired. */
  latest: number;
}

/**
 * Generations keeps packed sessions in one Map per slice of expiry time, each slice 1/16 of the
 * lifetime. A gc pass drops a slice whose sessions have all expired in one step and scans only
 * the slices that are partly expired, so it costs a step per slice plus the sessions of about one
 * slice, never all sessions. A lookup tries the slices latest first, where live sessions gather.
 */
export class Generations {
  readonly #width: number;
  readonly #slices = new Map<number, Generation>();
  /** #order lists the slice numbers in ascending order, for the latest-first lookup. */
  #order: number[] = [];

  /** `lifetime` is the usual time to expiry in ms. */
  constructor(lifetime: number) {
    this.#width = Math.max(1000, Math.ceil(lifetime / 16));
  }

  /** get returns the packed session `sid`, live or not. */
  get(sid: string): string | undefined {
    const order = this.#order;
    for (let i = order.length - 1; i >= 0; i--) {
      const packed = this.#slices.get(order[i]!)!.sessions.get(sid);
      if (packed !== undefined) return packed;
    }
    return undefined;
  }

  /** set stores `packed` for `sid`, moving it to the slice of its new expiry; `previous` is its packed string before, if any. */
  set(sid: string, packed: string, previous: string | undefined): void {
    const expiresAt = expiryOf(packed);
    const slice = this.#sliceOf(expiresAt);
    if (previous !== undefined && this.#sliceOf(expiryOf(previous)) !== slice) this.delete(sid, previous);
    let generation = this.#slices.get(slice);
    if (generation === undefined) {
      generation = { sessions: new Map(), latest: expiresAt };
      this.#slices.set(slice, generation);
      this.#order = [...this.#slices.keys()].sort((a, b) => a - b);
    }
    generation.sessions.set(sid, packed);
    if (expiresAt > generation.latest) generation.latest = expiresAt;
  }

  /** delete removes `sid`, whose packed string is `packed`. */
  delete(sid: string, packed: string): void {
    const slice = this.#sliceOf(expiryOf(packed));
    const generation = this.#slices.get(slice);
    if (generation?.sessions.delete(sid) && generation.sessions.size === 0) this.#drop(slice);
  }

  /** size is the number of sessions held, expired or not. */
  get size(): number {
    let size = 0;
    for (const generation of this.#slices.values()) size += generation.sessions.size;
    return size;
  }

  /** collect removes every session that has expired by `now`. */
  collect(now: number): void {
    for (const slice of this.#order) {
      if (slice * this.#width > now) break;
      const generation = this.#slices.get(slice)!;
      if (generation.latest <= now) {
        this.#drop(slice);
        continue;
      }
      for (const [sid, packed] of generation.sessions) if (expiryOf(packed) <= now) generation.sessions.delete(sid);
      if (generation.sessions.size === 0) this.#drop(slice);
    }
  }

  /** clear removes every session. */
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
