/**
 * ExpiryHeap is a min-heap of (expiresAt, sid) pairs. The memory and lmdb providers use it so a gc
 * pass costs work proportional to the sessions that expired, not to all sessions. Entries are
 * never updated in place: a new expiry pushes a new pair, and the caller skips pairs that no
 * longer match the session's current expiry when they come out.
 */
export class ExpiryHeap {
  private times: number[] = [];
  private ids: string[] = [];

  get size(): number {
    return this.times.length;
  }

  push(expiresAt: number, sid: string): void {
    const { times, ids } = this;
    let i = times.length;
    times.push(expiresAt);
    ids.push(sid);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= expiresAt) break;
      times[i] = times[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    times[i] = expiresAt;
    ids[i] = sid;
  }

  /** popExpired removes and yields every pair whose time is at or before `now`, earliest first. */
  *popExpired(now: number): Generator<[expiresAt: number, sid: string]> {
    while (this.times.length > 0 && this.times[0]! <= now) {
      const pair: [number, string] = [this.times[0]!, this.ids[0]!];
      this.removeTop();
      yield pair;
    }
  }

  /** clear empties the heap. */
  clear(): void {
    this.times = [];
    this.ids = [];
  }

  private removeTop(): void {
    const { times, ids } = this;
    const lastTime = times.pop()!;
    const lastId = ids.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && times[right]! < times[left]! ? right : left;
      if (times[child]! >= lastTime) break;
      times[i] = times[child]!;
      ids[i] = ids[child]!;
      i = child;
    }
    times[i] = lastTime;
    ids[i] = lastId;
  }
}
