import { valueOf, type SessionState, type StoredFlash } from './codec.ts';

/**
 * Op is one change a request made to its session. The Session records ops as the handler runs
 * and, on release, replays them onto the freshest stored record, so concurrent requests of one
 * session merge instead of overwriting each other.
 */
export type Op =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'increment'; key: string; by: number }
  | { kind: 'flush' }
  | { kind: 'flash'; message: StoredFlash }
  | { kind: 'consumeFlashes'; ids: ReadonlySet<string> }
  | { kind: 'setFlash'; key: string; value: unknown }
  | { kind: 'consumeFlash'; key: string }
  | { kind: 'bindUser'; user: string | undefined }
  | { kind: 'lifetime'; ms: number | undefined }
  /** create stores a session that holds nothing yet, so its cookie goes out on the first visit. */
  | { kind: 'create' };

/** applyOp applies `op` to `state` in place. */
export function applyOp(state: SessionState, op: Op): void {
  switch (op.kind) {
    case 'set':
      state.data[op.key] = op.value;
      break;
    case 'delete':
      delete state.data[op.key];
      break;
    case 'increment': {
      const current = valueOf(state.data, op.key);
      state.data[op.key] = (typeof current === 'number' && Number.isFinite(current) ? current : 0) + op.by;
      break;
    }
    case 'flush':
      state.data = {};
      break;
    case 'flash':
      state.flashes.push(op.message);
      break;
    case 'consumeFlashes':
      state.flashes = state.flashes.filter((m) => !op.ids.has(m.id));
      break;
    case 'setFlash':
      state.keyedFlashes[op.key] = op.value;
      break;
    case 'consumeFlash':
      delete state.keyedFlashes[op.key];
      break;
    case 'bindUser':
      if (state.user !== op.user) state.indexedUntil = undefined;
      state.user = op.user;
      break;
    case 'lifetime':
      if (op.ms === undefined) delete state.lifetime;
      else state.lifetime = op.ms;
      break;
    case 'create':
      break;
  }
}
