// connect-flash, lusca and koa-passport ship no type declarations; these cover what the tests call.

declare module 'connect-flash' {
  import type { RequestHandler } from 'express';
  global {
    namespace Express {
      interface Request {
        /** flash queues a message of `type`, or with `type` alone takes and removes its messages. */
        flash(type: string, message: string | string[]): number;
        flash(type: string): string[];
        flash(): Record<string, string[]>;
      }
    }
  }
  export default function flash(options?: { unsafe?: boolean }): RequestHandler;
}

declare module 'lusca' {
  import type { RequestHandler } from 'express';
  global {
    namespace Express {
      interface Request {
        /** csrfToken is set by lusca.csrf (and by csrf-sync) on every request it checks. */
        csrfToken?: (overwrite?: boolean) => string;
      }
    }
  }
  const lusca: {
    csrf(options?: { key?: string; secret?: string; header?: string }): RequestHandler;
  };
  export default lusca;
}

declare module 'koa-passport' {
  import type { Middleware } from 'koa';
  import type { Strategy } from 'passport';
  type Done<T> = (error: unknown, value?: T) => void;
  class KoaPassport {
    use(strategy: Strategy): this;
    use(name: string, strategy: Strategy): this;
    serializeUser<U, I>(serialize: (user: U, done: Done<I>) => void): void;
    deserializeUser<I, U>(deserialize: (id: I, done: Done<U | false>) => void): void;
    initialize(): Middleware;
    session(): Middleware;
    authenticate(name: string, options?: { successRedirect?: string; failureRedirect?: string }): Middleware;
  }
  const passport: KoaPassport & { KoaPassport: typeof KoaPassport };
  export default passport;
  module 'koa' {
    interface DefaultContext {
      login(user: unknown, options?: Record<string, unknown>): Promise<void>;
      logout(options?: Record<string, unknown>): Promise<void>;
      isAuthenticated(): boolean;
    }
  }
}
