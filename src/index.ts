export { SessionError, isSessionError, storeError, type SessionErrorCode } from './errors.ts';
export type { OpenOptions, Provider, Store } from './provider.ts';
export { register, providers } from './registry.ts';
export { generateId, isValidId, assertValidId, MIN_ID_LENGTH } from './id.ts';
import '../providers/memory/index.ts';
