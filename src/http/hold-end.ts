import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Manager } from '../manager.ts';
import { RELEASE_IF_NEEDED, SELF } from '../session.ts';
import { inCheckPhase } from './check-phase.ts';
import { appendSetCookie, nodeWriter, sessionHeaders, writeSessionHeaders, type AnySession } from './headers.ts';

/**
 * A node response gets its session headers however the handler writes it, and does not end
 * before its session is saved: writeHead adds the headers (node also calls writeHead implicitly
 * on the first write or end), and end waits for the save. So a response whose headers are still
 * unsent at its end gets them after the save, from the writeHead that node's end makes. This file
 * holds that logic once, for hooks on the response itself; express-fast-path.ts serves Express's
 * responses with the same logic from their shared prototype.
 */

/**
 * Hook is what the writeHead and end hooks of one response act on: the session, and, once
 * {@link saveBeforeEnd} asked for it, how a failed save is reported (`saveError`).
 */
export interface Hook {
  session: AnySession;
  manager: Manager;
  saveError?: (error: Error) => void;
  ending: boolean;
  /** own: the hooks are properties of the response itself, not of a framework's shared prototype. */
  own: boolean;
  /**
   * beforeSave runs when the response ends, before the save: an adapter may settle there which
   * session that is, returning a promise when it has something to wait for.
   */
  beforeSave?: () => Promise<void> | undefined;
  /** The end call held back to the check phase, and its arguments; see {@link endFor}. */
  heldEnd?: End;
  heldArgs?: unknown[];
}

/**
 * newHook makes the Hook of one response with every field it will get, so that setting one later
 * keeps its hidden class and adds no property storage.
 */
export function newHook(session: AnySession, manager: Manager, own: boolean): Hook {
  return { session, manager, saveError: undefined, ending: false, own, beforeSave: undefined, heldEnd: undefined, heldArgs: undefined };
}

/** hooks holds the hooked responses; a response hooked once keeps its first session. */
export const hooks = new WeakMap<ServerResponse, Hook>();

type WriteHead = ServerResponse['writeHead'];
type End = ServerResponse['end'];

/**
 * writeHeadFor adds the session headers of `hook` to a writeHead call. Headers passed to writeHead
 * itself, as an object or a raw list (flat `[name, value, …]` or `[[name, value], …]` pairs, both
 * of which node accepts), are kept: cookies beside the session cookie, and a Cache-Control or Vary
 * given there counts as already set.
 */
export function writeHeadFor(res: ServerResponse, hook: Hook, writeHead: WriteHead, args: unknown[]): ServerResponse {
  const index = typeof args[1] === 'string' ? 2 : 1;
  const given = args[index];
  if (Array.isArray(given)) {
    // Added in the list's own shape: node reads a list of pairs only if every entry is a pair.
    const pairs: unknown[][] = Array.isArray(given[0]) ? given : [];
    if (pairs !== given) for (let i = 0; i + 1 < given.length; i += 2) pairs.push([given[i], given[i + 1]]);
    const current = (name: string) => (pairs.find(([key]) => String(key).toLowerCase() === name)?.[1] as string | undefined) ?? res.getHeader(name);
    const headers = sessionHeaders(hook.session, hook.manager, current);
    args[index] = Array.isArray(given[0]) ? [...given, ...headers] : [...given, ...headers.flat()];
  } else {
    if (given && typeof given === 'object') {
      const rest: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(given as OutgoingHttpHeaders)) {
        if (value === undefined) continue;
        if (name.toLowerCase() === 'set-cookie') appendSetCookie(res, value);
        else res.setHeader(name, value);
      }
      args[index] = rest;
    }
    // Not asked whether the headers went out (an inline-cache miss on Express's responses): writeHead
    // on such a response throws in node, and so does the first header set here.
    writeSessionHeaders(hook.session, hook.manager, nodeWriter(res));
  }
  return writeHead.apply(res, args as Parameters<WriteHead>);
}

/**
 * endFor holds back an end call until the session is saved; later calls are ignored, except the
 * one the framework's error path makes after a failed save. A failed save goes to `saveError`
 * while the headers are still unsent; once they are sent, it is reported and the response ends.
 *
 * A response with nothing to wait for (a read-only request, or a save the store made at once, as
 * the memory store does) ends in the check phase of the loop's turn, not in the call: under load,
 * the responses of the requests read in one poll phase then go out together, after all of them
 * ran, as they do behind a store that answers over the network (check-phase.ts runs them).
 * Alternating the builds before and after under 50 connections (bench/ab.ts, 10–12 rounds of
 * 1.5 s, median of the rounds' ratios), requests/s on the memory store: Express `ro` 1.17, `rw`
 * 1.19; Fastify `ro` 1.01, `rw` 1.35; node:http `ro` 1.05, `rw` 1.42; Express on Redis `ro` 0.95,
 * 1.00 and 1.15 in three runs. Why the batch is cheaper is not settled (bench/README.md, "Ending
 * in the check phase").
 */
export function endFor(res: ServerResponse, hook: Hook, end: End, args: unknown[]): ServerResponse {
  // Later ends are ignored, also while a held-back end waits for its turn.
  if (hook.ending) return res;
  const saveError = hook.saveError;
  if (saveError === undefined) return end.apply(res, args as Parameters<End>);
  hook.ending = true;
  const settling = hook.beforeSave?.();
  const saving = settling ? settling.then(() => saveFor(hook)) : saveFor(hook);
  // Nothing to save (a read-only request), or saved in this turn: the response ends in this turn's check phase.
  if (saving === undefined) {
    hook.heldEnd = end;
    hook.heldArgs = args;
    inCheckPhase(endHeld, res, hook);
  } else saving.then(() => endSaved(res, hook, end, args, saveError), (error: Error) => endFailed(res, hook, end, args, saveError, error));
  return res;
}

/**
 * saveFor saves the session of a held-back end, as finishSession (headers.ts) does, but leaves the
 * headers to the writeHead that node's end makes when they have not gone out, which writes them
 * after the save all the same. Not asking `res.headersSent` here spares an Express response an
 * inline-cache miss (bench/README.md, "Inline-cache misses"); not writing, a promise to wait for.
 */
function saveFor(hook: Hook): Promise<void> | undefined {
  return hook.session[SELF][RELEASE_IF_NEEDED]();
}

/**
 * endHeld makes the end call that {@link endFor} held back to the check phase, and lets go of its
 * arguments: a Hook lives as long as its response, and the body should not.
 */
function endHeld(res: ServerResponse, hook: Hook): void {
  const end = hook.heldEnd!;
  const args = hook.heldArgs!;
  hook.heldEnd = undefined;
  hook.heldArgs = undefined;
  endSaved(res, hook, end, args, hook.saveError!);
}

/**
 * endSaved makes the end call that {@link endFor} held back, once the session is saved. An end that
 * throws (a body node refuses) can no longer throw into the handler that called it: its error
 * takes the path of a failed save, so it answers 500 rather than ending the process.
 */
function endSaved(res: ServerResponse, hook: Hook, end: End, args: unknown[], saveError: (error: Error) => void): void {
  hook.saveError = undefined;
  try {
    end.apply(res, args as Parameters<End>);
  } catch (error) {
    hook.ending = false;
    if (res.headersSent) {
      hook.manager.report(error as Error);
      res.destroy(error as Error);
    } else {
      saveError(error as Error);
    }
    return;
  }
  // Hooks of the response's own hold their Hook themselves; the entry is done with. Left in
  // place, it kept finished node:http responses alive through young collections until a full
  // one (gc-survival.ts node-sk-memory ro: 368 → 3 bytes a request promoted).
  if (hook.own) hooks.delete(res);
}

/** endFailed reports a failed save of a held-back end: to `saveError` while the headers are unsent, else by ending the response. */
function endFailed(res: ServerResponse, hook: Hook, end: End, args: unknown[], saveError: (error: Error) => void, error: Error): void {
  hook.saveError = undefined;
  // The framework's error path answers through end: that one must go through.
  hook.ending = false;
  if (res.headersSent) {
    hook.manager.report(error);
    end.apply(res, args as Parameters<End>);
  } else {
    saveError(error);
  }
}

/** hookOwn gives `res` a writeHead and an end of its own that act for `hook`. */
export function hookOwn(res: ServerResponse, hook: Hook): void {
  const writeHead = res.writeHead;
  const end = res.end;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    return writeHeadFor(this, hook, writeHead, args);
  } as WriteHead;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    return endFor(this, hook, end, args);
  } as End;
}

/**
 * attachSession makes the response carry the session's headers however the handler writes it,
 * with hooks of its own. A response already attached keeps its first session, which is returned.
 */
export function attachSession(res: ServerResponse, session: AnySession, manager: Manager): AnySession {
  const attached = hooks.get(res);
  if (attached !== undefined) return attached.session;
  const hook = newHook(session, manager, true);
  hooks.set(res, hook);
  hookOwn(res, hook);
  return session;
}

/**
 * saveBeforeEnd holds back the end of an attached response until the session is saved, so the
 * next request of the same client always sees this request's writes — also after a redirect.
 * A save failure goes to `onError` while the headers are still unsent.
 */
export function saveBeforeEnd(res: ServerResponse, onError: (error: Error) => void): void {
  const hook = hooks.get(res);
  if (hook !== undefined) hook.saveError = onError;
}
