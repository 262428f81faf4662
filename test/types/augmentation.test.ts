import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');

// The user pattern: declare the session shape once, by augmenting the interface that
// `sessionkit` re-exports, and every adapter's session is typed by it.
const AUGMENTED = `
import type { Request } from 'express';
import type { FastifyInstance } from 'fastify';
import type Koa from 'koa';
import type { Session, TypedSession } from 'sessionkit';
import type {} from 'sessionkit/fastify';
import type {} from 'sessionkit/koa';

declare module 'sessionkit' {
  interface SessionData {
    uid: string;
    visits: number;
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

assertType<Equal<TypedSession, Session<{ uid: string; visits: number }> & Partial<{ uid: string; visits: number }>>>();

declare const req: Request;
const fromExpress: string | undefined = req.session.get('uid');
assertType<Equal<ReturnType<typeof req.session.get<'uid'>>, string | undefined>>();
// @ts-expect-error a key SessionData does not declare
req.session.get('nope');
// @ts-expect-error a value of the wrong type
req.session.set('visits', 'many');
const asProperty: string | undefined = req.session.uid;
req.session.visits = (req.session.visits ?? 0) + 1;
// @ts-expect-error a property of the wrong type
req.session.uid = 42;
const id: string = req.sessionID;

declare const koa: Koa;
koa.use(async (ctx) => {
  const fromKoa: string | undefined = ctx.session.get('uid');
  ctx.session.set('visits', (ctx.session.get('visits') ?? 0) + 1);
  // @ts-expect-error a key SessionData does not declare
  ctx.session.get('nope');
  // @ts-expect-error a value of the wrong type
  ctx.session.set('uid', 42);
  ctx.body = fromKoa;
});

declare const fastify: FastifyInstance;
fastify.get('/', async (request) => {
  const fromFastify: string | undefined = request.session.get('uid');
  // @ts-expect-error a key SessionData does not declare
  request.session.get('nope');
  // @ts-expect-error a value of the wrong type
  request.session.set('visits', 'many');
  return fromFastify;
});

export { fromExpress, asProperty, id };
`;

interface Compiled {
  code: number;
  output: string;
}

/** typecheck compiles `source` as its own program inside the repository, where 'sessionkit' resolves to the source. */
async function typecheck(source: string): Promise<Compiled> {
  // A dot directory: the root tsconfig's include globs skip it, so its augmentation never leaks.
  const dir = await mkdtemp(join(root, '.typecheck-'));
  try {
    await writeFile(join(dir, 'fixture.ts'), source);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '..', types: ['node'] }, include: ['fixture.ts'] }),
    );
    return await new Promise((resolve) => {
      execFile(tsc, ['-p', dir], { cwd: root }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('SessionData augmentation', function () {
  this.timeout(60_000);

  it("declare module 'sessionkit' { interface SessionData } types the sessions of Express, Koa and Fastify", async function () {
    const { code, output } = await typecheck(AUGMENTED);
    expect(output).to.equal('');
    expect(code).to.equal(0);
  });

  it('the augmented program rejects a value read as the wrong type, so the check above can fail', async function () {
    const { code, output } = await typecheck(`${AUGMENTED}\ndeclare const k: Koa.Context;\nexport const wrong: number | undefined = k.session.get('uid');\n`);
    expect(code).to.not.equal(0);
    expect(output).to.match(/fixture\.ts\(\d+,\d+\): error TS2322: Type 'string \| undefined' is not assignable to type 'number \| undefined'/);
  });
});
