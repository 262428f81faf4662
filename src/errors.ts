/** SessionErrorCode lists the codes a {@link SessionError} carries. */
export type SessionErrorCode =
  | 'ERR_SESSION_UNKNOWN_PROVIDER'
  | 'ERR_SESSION_DUPLICATE_PROVIDER'
  | 'ERR_SESSION_INVALID_PROVIDER'
  | 'ERR_SESSION_PROVIDER_CONFIG'
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_UNSUPPORTED'
  | 'ERR_SESSION_MISSING_DEPENDENCY'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_CORRUPT_RECORD'
  | 'ERR_SESSION_INVALID_VALUE'
  | 'ERR_SESSION_TOO_LARGE'
  | 'ERR_SESSION_CONTENDED'
  | 'ERR_SESSION_INVALID_ID'
  | 'ERR_SESSION_ID_TAKEN'
  | 'ERR_SESSION_CLOSED';

/**
 * SessionError is the one error class sessionkit throws. Its message is lowercase and starts with
 * `session:` or `session/<provider or adapter>:`; `code` tells the kind; `cause` keeps the underlying error.
 * Messages never contain passwords or secrets.
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  /**
   * option names the `ManagerOptions` field a configuration error is about (`cookieName`),
   * so a caller such as the INI loader can point at the line that set it; absent otherwise.
   * Declared, not a class field, so an error without one does not print `option: undefined`.
   */
  declare readonly option?: string;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options);
    this.name = 'SessionError';
    this.code = code;
    if (options?.option !== undefined) this.option = options.option;
  }
}

/** isSessionError tells whether `err` is a {@link SessionError}, optionally of one code. */
export function isSessionError(err: unknown, code?: SessionErrorCode): err is SessionError {
  return err instanceof SessionError && (code === undefined || err.code === code);
}

/**
 * storeError wraps a backend failure as `ERR_SESSION_STORE`, prefixed with the provider name.
 * A SessionError passes through unchanged so codes chosen deeper down survive.
 */
export function storeError(provider: string, action: string, cause: unknown): SessionError {
  if (cause instanceof SessionError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new SessionError('ERR_SESSION_STORE', `session/${provider}: ${action} failed: ${detail}`, { cause });
}

/**
 * idTaken is the error `Store.regenerate` rejects with when the new id holds a live session:
 * code `ERR_SESSION_ID_TAKEN`, message `session/<provider>: regenerate failed: the new session id
 * is already taken`. Both records stay as they were; the Manager, seeing the code, moves the
 * session to another fresh id. Third-party stores throw it too, so the Manager can tell a taken id
 * from a failing backend.
 */
export function idTaken(provider: string): SessionError {
  return new SessionError('ERR_SESSION_ID_TAKEN', `session/${provider}: regenerate failed: the new session id is already taken`);
}
