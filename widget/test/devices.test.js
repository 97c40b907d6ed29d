// Microphone and speaker choice: what is offered, what the microphone request asks for, and switching
// mid-call without dropping it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { micConstraints } from '../src/attributes.js';
import { deviceLists, offer, selectedDevice } from '../src/devices.js';
import { settle, setup } from './helpers.js';

const dev = (kind, deviceId, label) => ({ kind, deviceId, label, groupId: 'g' });

describe('the device lists', () => {
  it('lists microphones and speakers with their names', () => {
    const lists = deviceLists([
      dev('audioinput', 'default', 'Default - Headset'),
      dev('audioinput', 'mic-2', 'Laptop microphone'),
      dev('audiooutput', 'spk-1', 'Headset'),
      dev('videoinput', 'cam', 'Camera'),
    ]);
    assert.deepEqual(lists.mics, [
      { id: 'default', label: 'Default - Headset' },
      { id: 'mic-2', label: 'Laptop microphone' },
    ]);
    assert.deepEqual(lists.speakers, [{ id: 'spk-1', label: 'Headset' }]);
  });

  it('offers nothing before the microphone is allowed (the browser hides names and ids)', () => {
    const lists = deviceLists([dev('audioinput', '', ''), dev('audioinput', '', '')]);
    assert.equal(offer(lists.mics), false);
  });

  it('offers a choice only between two or more', () => {
    assert.equal(offer([{ id: 'a' }]), false);
    assert.equal(offer([{ id: 'a' }, { id: 'b' }]), true);
  });

  it('selects the remembered device while it is there, else the first (the default)', () => {
    const list = [{ id: 'default' }, { id: 'mic-2' }];
    assert.equal(selectedDevice(list, 'mic-2'), 'mic-2');
    assert.equal(selectedDevice(list, 'unplugged'), 'default');
    assert.equal(selectedDevice([], 'mic-2'), '');
  });
});

describe('the microphone request', () => {
  it('asks for the chosen microphone exactly', () => {
    assert.deepEqual(micConstraints('mic-2').audio.deviceId, { exact: 'mic-2' });
    assert.equal('deviceId' in micConstraints(null).audio, false);
    assert.equal(micConstraints(null).audio.echoCancellation, true);
  });

  it('the controller starts a call with the remembered microphone', async () => {
    const { c, log } = setup({ micId: 'mic-2' });
    await c.start();
    assert.deepEqual(log.constraints[0].audio.deviceId, { exact: 'mic-2' });
    assert.equal(log.tracks[0].deviceId, 'mic-2');
    assert.equal(c.state, 'live');
  });

  for (const gone of ['OverconstrainedError', 'NotFoundError']) {
    it(`falls back to the default microphone when the remembered one is gone (${gone})`, async () => {
      const { c, log } = setup({ micId: 'unplugged', mics: { unplugged: gone } });
      await c.start();
      assert.equal(log.constraints.length, 2);
      assert.equal('deviceId' in log.constraints[1].audio, false);
      assert.equal(log.tracks[0].deviceId, 'default');
      assert.equal(c.state, 'live');
    });
  }

  it('does not retry a refused microphone with another one', async () => {
    const { c, log } = setup({ micId: 'mic-2', mics: { 'mic-2': 'NotAllowedError' } });
    await c.start();
    assert.equal(log.constraints.length, 1);
    assert.equal(c.error.code, 'mic_denied');
  });
});

describe('switching the microphone mid-call', () => {
  it('replaces the published track, keeps the call, and lets the old microphone go', async () => {
    const { c, log } = setup();
    await c.start();
    const [first] = log.tracks;
    assert.equal(await c.switchMic('mic-2'), true);
    const second = log.tracks[1];
    assert.equal(second.deviceId, 'mic-2');
    assert.deepEqual(log.replaced, [second]);
    assert.equal(first.stopped, true);
    assert.equal(second.stopped, false);
    assert.equal(c.state, 'live');
    c.end();
    assert.equal(second.stopped, true, 'hanging up releases the new microphone');
  });

  it('keeps a muted call muted on the new microphone', async () => {
    const { c, log } = setup();
    await c.start();
    c.mute(true);
    await c.switchMic('mic-2');
    assert.equal(log.tracks[1].enabled, false);
  });

  it('keeps the old microphone when the new one cannot be opened', async () => {
    const { c, log } = setup({ mics: { 'mic-2': 'NotReadableError' } });
    await c.start();
    assert.equal(await c.switchMic('mic-2'), false);
    assert.equal(log.tracks[0].stopped, false);
    assert.deepEqual(log.replaced, []);
    assert.equal(c.state, 'live');
  });

  it('keeps the old microphone when the session cannot swap tracks', async () => {
    const { c, log, session } = setup();
    await c.start();
    session.failReplace = true;
    assert.equal(await c.switchMic('mic-2'), false);
    assert.equal(log.tracks[0].stopped, false);
    assert.equal(log.tracks[1].stopped, true, 'the unused new track is let go');
  });

  it('a call that ended during the switch does not keep the new microphone', async () => {
    const { c, log } = setup();
    await c.start();
    const switching = c.switchMic('mic-2');
    c.end();
    assert.equal(await switching, false);
    await settle();
    assert.ok(log.tracks.every((t) => t.stopped));
  });

  it('before a call there is nothing to switch: the choice applies to the next call', async () => {
    const { c, log } = setup();
    assert.equal(await c.switchMic('mic-2'), true);
    assert.equal(log.constraints.length, 0, 'no microphone is opened for it');
  });
});

describe('the speaker', () => {
  it('is handed to the session of the next call, and to the current one when changed', async () => {
    const { c, log } = setup();
    c.speaker = 'spk-2';
    await c.start();
    assert.equal(log.sessionOptions.speaker, 'spk-2');
    await c.setSpeaker('spk-3');
    assert.deepEqual(log.speakers, ['spk-3']);
    assert.equal(c.speaker, 'spk-3');
  });
});
