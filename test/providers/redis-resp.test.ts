import assert from 'node:assert/strict';
import { encodeCommand, ReplyError, ReplyReader, type Reply } from '../../providers/redis/resp.ts';

/** readAll feeds `chunks` to one reader and returns every reply it produced, in order. */
function readAll(chunks: Buffer[], reader = new ReplyReader()): Reply[] {
  const replies: Reply[] = [];
  for (const chunk of chunks) reader.feed(chunk, (reply) => replies.push(reply));
  return replies;
}

/** RECORD holds characters of two, three and four UTF-8 bytes, so cuts fall inside characters. */
const RECORD = '{"name":"Zoë","city":"東京","mood":"😀"}';

const REPLIES: [string, string, Reply][] = [
  ['a simple string', '+OK\r\n', 'OK'],
  ['an integer', ':1\r\n', 1],
  ['a negative integer', ':-1\r\n', -1],
  ['a large integer', ':1712345678901\r\n', 1712345678901],
  ['a bulk string sized in bytes', `$${Buffer.byteLength(RECORD)}\r\n${RECORD}\r\n`, RECORD],
  ['an empty bulk string', '$0\r\n\r\n', ''],
  ['a bulk string holding CRLF', '$4\r\na\r\nb\r\n', 'a\r\nb'],
  ['a nil bulk string', '$-1\r\n', null],
  ['an empty array', '*0\r\n', []],
  ['a nil array', '*-1\r\n', null],
  ['a nested array', '*3\r\n$2\r\nid\r\n:42\r\n*2\r\n+a\r\n$-1\r\n', ['id', 42, ['a', null]]],
];

describe('redis RESP', function () {
  it('encodeCommand sizes each argument in UTF-8 bytes, numbers as decimal text', function () {
    assert.equal(encodeCommand(['GET', 'k']), '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
    assert.equal(encodeCommand(['SET', 'k', 'é😀', 'PX', 1500]), '*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\né😀\r\n$2\r\nPX\r\n$4\r\n1500\r\n');
    assert.equal(encodeCommand(['SET', 'k', '']), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n');
  });

  for (const [what, wire, expected] of REPLIES) {
    it(`reads ${what}, whole and cut at every byte`, function () {
      const bytes = Buffer.from(wire);
      assert.deepEqual(readAll([bytes]), [expected]);
      for (let cut = 1; cut < bytes.length; cut++) {
        assert.deepEqual(readAll([bytes.subarray(0, cut), bytes.subarray(cut)]), [expected], `cut at ${cut}`);
      }
      assert.deepEqual(readAll([...bytes].map((byte) => Buffer.from([byte]))), [expected], 'one byte a chunk');
    });
  }

  it('reads an error reply as a ReplyError carrying the server line', function () {
    const [reply] = readAll([Buffer.from('-NOSCRIPT No matching script. Please use EVAL.\r\n')]);
    assert.ok(reply instanceof ReplyError);
    assert.equal(reply.message, 'NOSCRIPT No matching script. Please use EVAL.');
  });

  it('reads many replies from one chunk, and a reply cut short once the rest arrives, in order', function () {
    const wire = Buffer.from(REPLIES.map(([, bytes]) => bytes).join(''));
    const expected = REPLIES.map(([, , reply]) => reply);
    assert.deepEqual(readAll([wire]), expected);
    for (let cut = 1; cut < wire.length; cut += 7) {
      assert.deepEqual(readAll([wire.subarray(0, cut), wire.subarray(cut, cut + 3), wire.subarray(cut + 3)]), expected, `cut at ${cut}`);
    }
  });

  it('reads a bulk string of 1 MB spread over 64 KB chunks', function () {
    const big = RECORD.repeat(25_000);
    const wire = Buffer.from(`$${Buffer.byteLength(big)}\r\n${big}\r\n:7\r\n`);
    const chunks = Array.from({ length: Math.ceil(wire.length / 65_536) }, (_, i) => wire.subarray(i * 65_536, (i + 1) * 65_536));
    assert.deepEqual(readAll(chunks), [big, 7]);
  });

  it('refuses bytes that are not RESP, naming what was wrong', function () {
    for (const [wire, message] of [
      ['?what\r\n', /unknown type "\?"/],
      [':12a\r\n', /non-digit/],
      [':\r\n', /empty number/],
      ['$3\r\nabcd\r\n', /longer than its length/],
      ['+OK\rX', /CRLF/],
    ] as const) {
      assert.throws(() => readAll([Buffer.from(wire)]), message, wire);
    }
  });

  it('reset drops a partial reply, so a new connection starts clean', function () {
    const reader = new ReplyReader();
    assert.deepEqual(readAll([Buffer.from('$5\r\nab')], reader), []);
    reader.reset();
    assert.deepEqual(readAll([Buffer.from(':3\r\n')], reader), [3]);
  });
});
