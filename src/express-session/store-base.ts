import { EventEmitter } from 'node:events';

/**
 * StoreConstructor is the type of {@link Store}: a constructor that old-style stores may also call
 * as a function on their own instance (`Store.call(this, options)`).
 */
export interface StoreConstructor {
  new (options?: unknown): EventEmitter;
  (this: unknown, options?: unknown): void;
  readonly prototype: EventEmitter;
}

/**
 * Store is the base class store packages extend when handed the session module, as in
 * `connectPgSimple(session)` or `memorystore(session)`: an EventEmitter, callable with or without
 * `new` like express-session's own `session.Store`, so such factories work with the drop-in
 * without express-session installed. sessionkit itself needs nothing of it.
 */
export const Store = function Store(this: EventEmitter) {
  EventEmitter.call(this);
} as unknown as StoreConstructor;
Object.setPrototypeOf(Store.prototype, EventEmitter.prototype);
