// The create request's proof: fetched and solved while the microphone prompt is up, sent once, and the
// backend's challenge_required answered by solving the challenge it sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { created, response, settle, setup } from './helpers.js';

const CHALLENGE = { algorithm: 'SHA-256', challenge: 'c'.repeat(64), maxnumber: 10, salt: 'salt&', signature: 's' };

function withSolver(options) {
  const harness = setup(options);
  harness.solved = [];
  harness.deps.solveChallenge = async (challenge) => {
    harness.solved.push(challenge);
    return `solution-of-${challenge.salt}`;
  };
  return harness;
}

const creates = (log) => log.fetches.filter((f) => f.url.endsWith('/web-calls'));
const bodyOf = (fetch) => JSON.parse(fetch.init.body);
const lastError = (log) => log.events.filter(([kind]) => kind === 'error').at(-1)?.[1];

describe('the challenge before a create', () => {
  it('is fetched from the sibling of the create endpoint and its solution goes in the create', async () => {
    const { c, log, solved } = withSolver({ responses: [response(200, { challenge: CHALLENGE, required: true }), created()] });
    await c.start();
    await settle();
    assert.equal(log.fetches[0].url, 'https://site.example/hms/challenge');
    assert.deepEqual(solved, [CHALLENGE]);
    assert.equal(creates(log).length, 1);
    assert.equal(bodyOf(creates(log)[0]).challenge, 'solution-of-salt&');
    assert.equal(c.state, 'live');
  });

  it('sends none when the backend needs none', async () => {
    const { c, log } = withSolver({ responses: [response(200, { challenge: null, required: false }), created()] });
    await c.start();
    await settle();
    assert.equal('challenge' in bodyOf(creates(log)[0]), false);
    assert.equal(c.state, 'live');
  });

  it('answers challenge_required by solving the challenge sent with it, once', async () => {
    const { c, log, solved } = withSolver({
      responses: [
        response(404, { error: { code: 'not_found' } }), // a backend without the challenge route
        response(401, { error: { code: 'challenge_required', message: 'x', challenge: CHALLENGE } }),
        created(),
      ],
    });
    await c.start();
    await settle();
    assert.deepEqual(solved, [CHALLENGE]);
    const bodies = creates(log).map(bodyOf);
    assert.equal(bodies.length, 2);
    assert.equal('challenge' in bodies[0], false);
    assert.equal(bodies[1].challenge, 'solution-of-salt&');
    assert.equal(c.state, 'live');
  });

  it('does not loop when the backend keeps asking', async () => {
    const required = () => response(401, { error: { code: 'challenge_required', message: 'x', challenge: CHALLENGE } });
    const { c, log } = withSolver({ responses: [response(200, { challenge: null }), required(), required(), created()] });
    await c.start();
    await settle();
    assert.equal(creates(log).length, 2);
    assert.equal(c.state, 'error');
    assert.equal(lastError(log).code, 'challenge_required');
    assert.equal(log.tracks[0].stopped, true); // the microphone is released
  });

  it('shows a refused solution as challenge_failed', async () => {
    const { c, log } = withSolver({
      responses: [response(200, { challenge: CHALLENGE }), response(403, { error: { code: 'challenge_failed', message: 'x' } })],
    });
    await c.start();
    await settle();
    assert.equal(c.state, 'error');
    assert.equal(lastError(log).code, 'challenge_failed');
  });

  it("uses the page's own verifier token (element.challenge) instead of the proof of work", async () => {
    const { c, deps, log, solved } = withSolver({ responses: [created()] });
    deps.challengeToken = async () => 'turnstile-token';
    await c.start();
    await settle();
    assert.deepEqual(solved, []);
    assert.equal(log.fetches.length, 1);
    assert.equal(bodyOf(creates(log)[0]).challenge, 'turnstile-token');
  });

  it('asks for the challenge while the microphone prompt is up, without making the prompt wait', async () => {
    const { c, deps, log } = withSolver({ responses: [response(200, { challenge: CHALLENGE }), created()] });
    let answerChallenge;
    const challengeAnswered = new Promise((resolve) => (answerChallenge = resolve));
    const fetch = deps.fetch;
    deps.fetch = async (url, init) => {
      if (url.endsWith('/challenge')) await challengeAnswered;
      return fetch(url, init);
    };
    const micAsked = [];
    const gum = deps.getUserMedia;
    deps.getUserMedia = async (constraints) => {
      micAsked.push(log.fetches.length);
      return gum(constraints);
    };
    c.start();
    await settle();
    assert.deepEqual(micAsked, [0]); // the prompt is up while the challenge is still on its way
    assert.equal(creates(log).length, 0); // and the create waits for the proof
    answerChallenge();
    await settle();
    assert.equal(bodyOf(creates(log)[0]).challenge, 'solution-of-salt&');
  });
});
