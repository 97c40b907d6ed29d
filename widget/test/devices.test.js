// Microphone and speaker choice: what is offered, what the microphone request asks for, and switching
// mid-call without dropping it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { micConstraints } from '../src/attributes.js';
import { deviceLists, isInUse, micToUse, offer, selectedDevice } from '../src/devices.js';
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

describe('following a headset plugged in or pulled out', () => {
  const mic = (deviceId, groupId, label = deviceId) => ({ kind: 'audioinput', deviceId, groupId, label });
  // Chromium: "default" stands for a device listed again under its own id, in its group.
  const chromium = (defaultGroup) => [
    mic('default', defaultGroup),
    mic('laptop', 'g-laptop'),
    mic('headset', 'g-headset'),
    { kind: 'audiooutput', deviceId: 'default', groupId: defaultGroup, label: 'Default' },
  ];

  it('follows the default where none was chosen: the device the default stands for', () => {
    assert.equal(micToUse(chromium('g-headset'), null).deviceId, 'headset');
    assert.equal(micToUse(chromium('g-headset'), 'default').deviceId, 'headset');
    // Safari and Firefox list the default first, under its own id.
    assert.equal(micToUse([mic('headset', 'h'), mic('laptop', 'l')], null).deviceId, 'headset');
  });

  it('keeps the chosen microphone while it is there, else falls back to the default', () => {
    assert.equal(micToUse(chromium('g-headset'), 'laptop').deviceId, 'laptop');
    assert.equal(micToUse(chromium('g-laptop'), 'unplugged').deviceId, 'laptop');
    assert.equal(micToUse([], null), undefined);
  });

  it('knows the open microphone by its id, or by its group when it was opened as the default', () => {
    const headset = mic('headset', 'g-headset');
    assert.equal(isInUse({ deviceId: 'headset', groupId: 'g-headset' }, headset), true);
    assert.equal(isInUse({ deviceId: 'default', groupId: 'g-headset' }, headset), true);
    assert.equal(isInUse({ deviceId: 'default', groupId: 'g-laptop' }, headset), false);
    assert.equal(isInUse({ deviceId: 'default' }, mic('laptop', '')), false);
  });
});

describe('the microphone request', () => {
  it('asks for the chosen microphone as ideal (iOS refuses exact), with the voice processing on', () => {
    assert.deepEqual(micConstraints('mic-2').audio.deviceId, { ideal: 'mic-2' });
    assert.deepEqual(micConstraints('mic-2', true, true).audio.deviceId, { exact: 'mic-2' });
    assert.equal('deviceId' in micConstraints(null).audio, false);
    const { echoCancellation, noiseSuppression, autoGainControl, voiceIsolation } = micConstraints(null).audio;
    assert.deepEqual([echoCancellation, noiseSuppression, autoGainControl, voiceIsolation], [true, true, true, true]);
    assert.deepEqual(new Set(Object.values(micConstraints(null, false).audio)), new Set([false]));
  });

  it('the controller starts a call with the remembered microphone, asked once where ideal is honoured', async () => {
    const { c, log } = setup({ micId: 'mic-2' });
    await c.start();
    assert.deepEqual(log.constraints.map((k) => k.audio.deviceId), [{ ideal: 'mic-2' }]);
    assert.equal(log.tracks[0].deviceId, 'mic-2');
    assert.equal(c.state, 'live');
  });

  it('asks again exactly where the browser ignored the ideal device (Chromium)', async () => {
    const { c, log } = setup({ micId: 'mic-2', ignoresIdeal: true });
    await c.start();
    assert.deepEqual(log.constraints.map((k) => k.audio.deviceId), [{ ideal: 'mic-2' }, { exact: 'mic-2' }]);
    assert.deepEqual(log.tracks.map((t) => [t.deviceId, t.stopped]), [['default', true], ['mic-2', false]]);
    assert.equal(c.state, 'live');
  });

  it('asks with audio-processing="off" for no echo cancellation, noise suppression nor gain', async () => {
    const { c, log } = setup({ attrs: { 'audio-processing': 'off' } });
    await c.start();
    assert.equal(log.constraints[0].audio.echoCancellation, false);
    assert.equal(log.constraints[0].audio.noiseSuppression, false);
    assert.equal(log.constraints[0].audio.autoGainControl, false);
  });

  for (const gone of ['OverconstrainedError', 'NotFoundError']) {
    it(`falls back to the default microphone when the remembered one is gone (${gone})`, async () => {
      const { c, log } = setup({ micId: 'unplugged', mics: { unplugged: gone } });
      await c.start();
      assert.equal('deviceId' in log.constraints.at(-1).audio, false);
      assert.deepEqual(log.tracks.filter((t) => !t.stopped).map((t) => t.deviceId), ['default']);
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
