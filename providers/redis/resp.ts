/**
 * RESP2, the protocol a Redis server speaks to a client that has not asked for RESP3: commands
 * go out as arrays of bulk strings, replies come back typed by their first byte. This is the
 * part of it the request connection needs ({@link RequestConnection}); ioredis keeps the rest.
 */

/** Reply is one decoded reply: a simple or bulk string, an integer, a nil, an error, or an array of these. */
export type Reply = string | number | null | ReplyError | Reply[];

/** ReplyError is an error reply (`-ERR …`, `-NOSCRIPT …`); its message is the server's line. */
export class ReplyError extends Error {
  override name = 'ReplyError';
}

/** encodeCommand writes one command as a RESP array of bulk strings, each sized in UTF-8 bytes. */
export function encodeCommand(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = typeof arg === 'string' ? arg : String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

const CR = 13;
const LF = 10;
/** INCOMPLETE is what a parse step returns when the reply goes on in bytes not received yet. */
const INCOMPLETE = -1;

/**
 * ReplyReader turns a connection's bytes into replies, however the stream splits them into
 * chunks. A reply cut short is kept and parsed again once more bytes arrive; a bulk string whose
 * length is known waits until all of it is there, so a large record costs one copy, not one per chunk.
 */
export class ReplyReader {
  /** held are the bytes received since the last complete reply, while they end in a partial one. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** need is how many bytes the partial reply needs at least before parsing it again is worth it. */
  private need = 0;
  /** value is the reply the last parse step read (a field, not a returned pair, to allocate nothing). */
  private value: Reply = null;

  /** feed parses `chunk` and calls `onReply` for each complete reply in order; it throws on bytes that are not RESP. */
  feed(chunk: Buffer, onReply: (reply: Reply) => void): void {
    let buffer = chunk;
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.need) return;
      buffer = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
    }
    let start = 0;
    while (start < buffer.length) {
      const end = this.parse(buffer, start);
      if (end === INCOMPLETE) {
        const rest = buffer.subarray(start);
        this.held.push(rest);
        this.heldBytes = rest.length;
        this.need = Math.max(this.need - start, rest.length + 1);
        return;
      }
      start = end;
      this.need = 0;
      onReply(this.value);
    }
  }

  /** reset forgets any partial reply, for a new connection. */
  reset(): void {
    this.held = [];
    this.heldBytes = 0;
    this.need = 0;
    this.value = null;
  }

  /**
   * parse reads the reply starting at `at` into {@link ReplyReader.value} and returns where the
   * next one starts, or {@link INCOMPLETE}; for a bulk string cut short it sets `need`, counted
   * from the start of the buffer.
   */
  private parse(buffer: Buffer, at: number): number {
    const lineEnd = buffer.indexOf(CR, at + 1);
    if (lineEnd === -1 || lineEnd + 1 >= buffer.length) return INCOMPLETE;
    if (buffer[lineEnd + 1] !== LF) throw protocolError('a line not ended by CRLF');
    const next = lineEnd + 2;
    switch (buffer[at]) {
      case 0x2b: // '+' simple string
        this.value = buffer.toString('utf8', at + 1, lineEnd);
        return next;
      case 0x2d: // '-' error
        this.value = new ReplyError(buffer.toString('utf8', at + 1, lineEnd));
        return next;
      case 0x3a: // ':' integer
        this.value = readInteger(buffer, at + 1, lineEnd);
        return next;
      case 0x24: {
        // '$' bulk string, or nil at length -1
        const length = readInteger(buffer, at + 1, lineEnd);
        if (length < 0) {
          this.value = null;
          return next;
        }
        const end = next + length;
        if (end + 2 > buffer.length) {
          this.need = end + 2;
          return INCOMPLETE;
        }
        if (buffer[end] !== CR || buffer[end + 1] !== LF) throw protocolError('a bulk string longer than its length');
        this.value = buffer.toString('utf8', next, end);
        return end + 2;
      }
      case 0x2a: {
        // '*' array, or nil at length -1
        const count = readInteger(buffer, at + 1, lineEnd);
        if (count < 0) {
          this.value = null;
          return next;
        }
        const items: Reply[] = [];
        let from = next;
        for (let i = 0; i < count; i++) {
          from = this.parse(buffer, from);
          if (from === INCOMPLETE) return INCOMPLETE;
          items.push(this.value);
        }
        this.value = items;
        return from;
      }
      default:
        throw protocolError(`a reply of unknown type ${JSON.stringify(String.fromCharCode(buffer[at]!))}`);
    }
  }
}

/** readInteger reads the decimal integer in `buffer[start, end)`: digits after an optional minus. */
function readInteger(buffer: Buffer, start: number, end: number): number {
  let at = start;
  const negative = buffer[at] === 0x2d;
  if (negative) at++;
  if (at === end) throw protocolError('an empty number');
  let value = 0;
  for (; at < end; at++) {
    const digit = buffer[at]! - 0x30;
    if (digit < 0 || digit > 9) throw protocolError('a number with a non-digit');
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

function protocolError(what: string): Error {
  return new Error(`redis protocol error: ${what}`);
}
