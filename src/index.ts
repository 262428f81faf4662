export { SessionError, isSessionError, storeError, idTaken, type SessionErrorCode } from './errors.ts';
export type {
  AtomicStore,
  BaseStore,
  ClearingStore,
  ClosingStore,
  CollectingStore,
  CountingStore,
  IndexedStore,
  MovingStore,
  OpenOptions,
  Provider,
  Store,
  TouchingStore,
} from './provider.ts';
export { register, providers } from './registry.ts';
export { generateId, isValidId, assertValidId, MIN_ID_LENGTH } from './id.ts';
export { createManager, Manager, ALL_SESSIONS } from './manager.ts';
export { Session, type SessionApi, type RawStore, type CookieDecision } from './session.ts';
export { SessionCookie } from './session-cookie.ts';
export type { Callback } from './callback.ts';
export { Flash, buildFlashView, type FlashView, type FlashMessage } from './flash.ts';
export { FLASH_LEVELS, type FlashLevel } from './codec.ts';
export { DEFAULTS, type ManagerOptions, type RejectedId, type SameSite, type StoreErrorPolicy } from './options.ts';
export type { SessionData, TypedSession } from './session-data.ts';
export { sessionHeaders, writeSessionHeaders, finishSession, applyHeaders, type HeaderWriter, type HeaderValue, type SessionHeaders } from './http/headers.ts';
export { expressSession, type ConnectMiddleware } from './http/express.ts';
export { startSession } from './http/node.ts';
import '../providers/memory/index.ts';
import '../providers/file/index.ts';
