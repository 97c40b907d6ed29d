import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { encodeSolution, findNumber, isChallenge, sha256Hex, solveChallenge } from '../src/challenge.js';

/** A challenge as the server makes it (the signature is opaque to the widget). */
function challengeFor(number, maxnumber = 5000) {
  const salt = 'a1b2c3d4e5f6?expires=1900000000&';
  const challenge = createHash('sha256').update(salt + number).digest('hex');
  return { algorithm: 'SHA-256', challenge, maxnumber, salt, signature: 'f'.repeat(64) };
}

describe('proof of work', () => {
  it("finds the number the server hid", () => {
    for (const n of [0, 1, 63, 64, 1234, 5000]) {
      assert.equal(findNumber(challengeFor(n)), n);
    }
  });

  it('answers null when no number up to maxnumber fits', async () => {
    const unsolvable = { ...challengeFor(10, 20), challenge: '0'.repeat(64) };
    assert.equal(findNumber(unsolvable), null);
    assert.equal(await solveChallenge(unsolvable, { useWorker: false }), null);
  });

  it('sends back base64 JSON of the challenge with the number', async () => {
    const challenge = challengeFor(777);
    const solution = await solveChallenge(challenge, { useWorker: false });
    assert.deepEqual(JSON.parse(atob(solution)), {
      algorithm: 'SHA-256',
      challenge: challenge.challenge,
      number: 777,
      salt: challenge.salt,
      signature: challenge.signature,
    });
    assert.equal(solution, encodeSolution(challenge, 777));
  });

  it('solves on the main thread when no worker can be made', async () => {
    const challenge = challengeFor(42);
    // Node has no Web Worker global: the worker path fails and the fallback solves it.
    const solution = await solveChallenge(challenge, { useWorker: true });
    assert.equal(JSON.parse(atob(solution)).number, 42);
  });

  it('refuses what is not a challenge it can solve', async () => {
    for (const value of [null, {}, { ...challengeFor(1), algorithm: 'SHA-1' }, { ...challengeFor(1), maxnumber: -1 }]) {
      assert.equal(isChallenge(value), false);
      assert.equal(await solveChallenge(value), null);
    }
  });
});

describe('sha256Hex', () => {
  it('matches SHA-256 for the inputs a challenge hashes, across block boundaries', () => {
    for (const text of ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'a'.repeat(119), 'x?expires=1&42']) {
      assert.equal(sha256Hex(text), createHash('sha256').update(text).digest('hex'), text);
    }
  });
});
