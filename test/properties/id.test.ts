import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isSessionError } from 'sessionkit';
import { errorOf } from '../support/faults.ts';
import { assertValidId, checkIdLength, generateId, isValidId, MAX_ID_LENGTH, MIN_ID_LENGTH } from '../../src/id.ts';

/**
 * Properties of id validation (checklist rows 4, 5, 6, 9): an id is exactly lowercase hex of an
 * accepted length, whatever else arrives — wrong lengths, uppercase, separators, traversal,
 * unicode look-alikes, non-strings — is refused without a throw, and the refusal never echoes it.
 */

const RUNS = 500;
const HEX = /^[0-9a-f]+$/;

const evenLength = fc.integer({ min: MIN_ID_LENGTH / 2, max: MAX_ID_LENGTH / 2 }).map((half) => half * 2);
const hexId = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const validId = evenLength.chain(hexId);
const providerName = fc.stringMatching(/^[a-z]{1,10}$/);

/** INTRUDERS are characters an attacker puts in a cookie: separators, traversal, controls, look-alikes. */
const INTRUDERS = [...'ABCDEFXZ./\\%;=", -_:', '\0', '\r', '\n', '\t', '．', '／', 'ａ', 'а', '\u0301', '\u200b'];

/** tampered is a valid id with one character replaced by, or one inserted from, {@link INTRUDERS}. */
const tampered = fc
  .tuple(validId, fc.nat(), fc.constantFrom(...INTRUDERS), fc.boolean())
  .map(([id, at, intruder, insert]) => {
    const i = at % id.length;
    return id.slice(0, i) + intruder + id.slice(insert ? i : i + 1);
  });

const anything = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 160 }),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 160 }),
  tampered,
  fc.anything(),
);

/** reference is the rule written out plainly: lowercase hex, 32 to 128 characters, or exactly `length`. */
function reference(sid: unknown, length?: number): boolean {
  if (typeof sid !== 'string' || !HEX.test(sid)) return false;
  return length === undefined ? sid.length >= MIN_ID_LENGTH && sid.length <= MAX_ID_LENGTH : sid.length === length;
}

describe('id properties', function () {
  it('isValidId agrees with the plain rule on any input, with or without a length, and never throws', function () {
    fc.assert(
      fc.property(anything, fc.option(evenLength, { nil: undefined }), (sid, length) => {
        assert.equal(isValidId(sid, length), reference(sid, length));
      }),
      { numRuns: RUNS },
    );
  });

  it('an id with one character replaced or inserted is refused', function () {
    fc.assert(
      fc.property(tampered, (sid) => {
        assert.equal(isValidId(sid), false);
      }),
      { numRuns: RUNS },
    );
  });

  it('generateId gives lowercase hex of exactly the asked length, valid for that length only', function () {
    fc.assert(
      fc.property(evenLength, (length) => {
        const id = generateId(length);
        assert.equal(id.length, length);
        assert.ok(isValidId(id, length));
        assert.ok(!isValidId(id, length + 2) && !isValidId(id, length - 2));
      }),
      { numRuns: RUNS },
    );
  });

  it('assertValidId refuses exactly what isValidId refuses, with ERR_SESSION_INVALID_ID and a fixed message', function () {
    fc.assert(
      fc.property(anything, providerName, (sid, provider) => {
        let error: unknown;
        try {
          assertValidId(sid, provider);
        } catch (err) {
          error = err;
        }
        if (isValidId(sid)) return assert.equal(error, undefined);
        assert.ok(isSessionError(error, 'ERR_SESSION_INVALID_ID'), String(error));
        // A fixed text: the refused value, which may be an attacker's payload, never reaches a log.
        assert.equal(error.message, `session/${provider}: refused an invalid session id`);
      }),
      { numRuns: RUNS },
    );
  });

  it('checkIdLength accepts exactly the even whole numbers from 32 to 128 and names idLength otherwise', function () {
    const lengths = fc.oneof(fc.integer({ min: -10, max: 200 }), fc.double(), fc.constantFrom(Number.NaN, Infinity, 31.5, 32.0000001));
    fc.assert(
      fc.property(lengths, (length) => {
        const accepted = Number.isInteger(length) && length >= MIN_ID_LENGTH && length <= MAX_ID_LENGTH && length % 2 === 0;
        if (accepted) return assert.equal(checkIdLength(length), length);
        const err = errorOf(() => checkIdLength(length), `checkIdLength(${length})`);
        assert.ok(isSessionError(err, 'ERR_SESSION_CONFIG') && /idLength/.test(err.message), String(err));
      }),
      { numRuns: RUNS },
    );
  });
});
