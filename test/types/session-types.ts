// Type tests: compiled by `tsc --noEmit -p .` (part of `npm test`), never run. Each line either
// compiles or carries @ts-expect-error, which fails the build if the error ever goes away.
// SessionData stays empty in this program (an augmentation here would retype every session of
// every test); test/types/augmentation.test.ts compiles the augmented pattern separately.
import type { Request } from 'express';
import type { FastifyRequest } from 'fastify';
import type { Context } from 'koa';
import type { FlashView, Session, TypedSession } from 'sessionkit';
import type {} from 'sessionkit/fastify';
import type {} from 'sessionkit/koa';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

interface Shape {
  uid: string;
  visits: number;
}
declare const typed: Session<Shape>;

assertType<Equal<ReturnType<typeof typed.get<'uid'>>, string | undefined>>();
assertType<Equal<ReturnType<typeof typed.get<'visits'>>, number | undefined>>();
typed.set('uid', 'u1');
typed.set('visits', 2);
// @ts-expect-error a key the shape does not declare
typed.get('nope');
// @ts-expect-error a value of the wrong type
typed.set('visits', 'many');
// @ts-expect-error a key the shape does not declare
typed.delete('nope');

// Without a declared SessionData every adapter hands out an untyped session.
assertType<Equal<TypedSession, Session>>();
assertType<Equal<Request['session'], TypedSession>>();
assertType<Equal<FastifyRequest['session'], TypedSession>>();
assertType<Equal<Context['session'], TypedSession>>();
assertType<Equal<Context['state']['flash'], FlashView>>();
assertType<Equal<Express.Locals['flash'], FlashView>>();
declare const untyped: TypedSession;
assertType<Equal<ReturnType<typeof untyped.get<'anything'>>, unknown>>();
