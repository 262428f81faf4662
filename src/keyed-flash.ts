import { checkKey, checkValue, valueOf, type Values } from './codec.ts';

/** UNKEYED is where the one flash without a key (flamego's `SetFlash(value)`) is kept. */
export const UNKEYED = '';

/** KeyedFlashHost is the part of a Session that a {@link KeyedFlashes} reads and records its changes through. */
export interface KeyedFlashHost {
  /** waiting returns the keyed flashes stored by earlier requests and not read yet. */
  waiting(): Values;
  store(key: string, value: unknown): void;
  consume(key: string): void;
}

/**
 * KeyedFlashes are iris's flash values under a key, and flamego's one unkeyed flash: any JSON
 * value, kept until a request reads it. A value read in a request is removed from the session for
 * later requests and stays readable until that request ends, as iris's GetFlash does.
 */
export class KeyedFlashes {
  readonly #host: KeyedFlashHost;
  /** #read keeps the values read in this request. */
  #read: Values = {};

  constructor(host: KeyedFlashHost) {
    this.#host = host;
  }

  /** set stores `value` under `key` until a request reads it. */
  set(key: string, value: unknown): void {
    if (key !== UNKEYED) checkKey(key);
    checkValue(value, key === UNKEYED ? 'flash' : `flash ${key}`);
    delete this.#read[key];
    this.#host.store(key, value);
  }

  /** get returns the value under `key` and removes it for later requests. */
  get(key: string): unknown {
    if (Object.hasOwn(this.#read, key)) return this.#read[key];
    const waiting = this.#host.waiting();
    if (!Object.hasOwn(waiting, key)) return undefined;
    const value = waiting[key];
    this.#read[key] = value;
    this.#host.consume(key);
    return value;
  }

  /** getAll returns every keyed value (the unkeyed one aside) and removes them, as `get` does each. */
  getAll(): Record<string, unknown> {
    const all: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(this.#read), ...Object.keys(this.#host.waiting())])) {
      if (key !== UNKEYED) all[key] = this.get(key);
    }
    return all;
  }

  /** peek returns the value under `key` without removing it. */
  peek(key: string): unknown {
    return Object.hasOwn(this.#read, key) ? this.#read[key] : valueOf(this.#host.waiting(), key);
  }

  /** has tells whether a value is there under `key`, or, without a key, whether any is. */
  has(key?: string): boolean {
    if (key === undefined) return Object.keys(this.#host.waiting()).length > 0 || Object.keys(this.#read).length > 0;
    return Object.hasOwn(this.#host.waiting(), key) || Object.hasOwn(this.#read, key);
  }

  /** delete removes the value under `key`, read or not. */
  delete(key: string): void {
    delete this.#read[key];
    if (Object.hasOwn(this.#host.waiting(), key)) this.#host.consume(key);
  }

  /** clear removes every keyed value, read or not. */
  clear(): void {
    this.#read = {};
    for (const key of Object.keys(this.#host.waiting())) this.#host.consume(key);
  }
}
