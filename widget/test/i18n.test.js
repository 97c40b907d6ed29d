import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SHELL, clock, duration, resolveLang, translator } from '../src/i18n.js';
import { STRINGS } from '../src/strings.js';

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('built-in strings', () => {
  it('has every English key in Dutch, with the same placeholders', () => {
    assert.deepEqual(Object.keys(STRINGS.nl).sort(), Object.keys(STRINGS.en).sort());
    for (const [key, text] of Object.entries(STRINGS.en)) {
      assert.deepEqual(placeholders(STRINGS.nl[key]), placeholders(text), key);
      assert.notEqual(STRINGS.nl[key], '', key);
    }
  });

  it('includes the loader’s own strings', () => {
    for (const lang of ['en', 'nl']) {
      for (const [key, text] of Object.entries(SHELL[lang])) assert.equal(STRINGS[lang][key], text);
    }
  });
});

describe('resolveLang', () => {
  it('takes the first language it has strings for, by primary subtag', () => {
    assert.equal(resolveLang(['auto', 'nl-BE', 'en'], STRINGS), 'nl');
    assert.equal(resolveLang([null, 'de-DE', 'NL'], STRINGS), 'nl');
    assert.equal(resolveLang(['fr', 'de'], STRINGS), 'en');
    assert.equal(resolveLang([], STRINGS), 'en');
  });

  it('knows languages a page added', () => {
    assert.equal(resolveLang(['de'], STRINGS, { de: { start: 'Mit KI sprechen' } }), 'de');
  });
});

describe('translator', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    const t = translator(STRINGS, 'en');
    assert.equal(t('speaking', { name: 'Ava' }), 'Ava is speaking');
    assert.equal(t('speaking'), '{name} is speaking');
  });

  it('applies page and element overrides over the built-in language', () => {
    const page = { en: { start: 'Page EN' }, nl: { hangup: 'Stoppen' }, de: { start: 'Mit KI sprechen' } };
    const nl = translator(STRINGS, 'nl', { mute: 'Stil' }, page);
    assert.equal(nl('start'), 'Praat met AI'); // built-in Dutch beats the page's English
    assert.equal(nl('hangup'), 'Stoppen');
    assert.equal(nl('mute'), 'Stil');
    const de = translator(STRINGS, 'de', {}, page);
    assert.equal(de('start'), 'Mit KI sprechen');
    assert.equal(de('hangup'), 'End call'); // missing in German: English
  });
});

describe('clock and duration', () => {
  it('formats call time as m:ss', () => {
    assert.equal(clock(0), '0:00');
    assert.equal(clock(65.9), '1:05');
    assert.equal(clock(300), '5:00');
    assert.equal(clock(-3), '0:00');
  });

  it('words a wait, rounding up', () => {
    const t = translator(STRINGS, 'en');
    assert.equal(duration(0.2, t), '1 s');
    assert.equal(duration(42, t), '42 s');
    assert.equal(duration(89, t), '89 s');
    assert.equal(duration(90, t), '2 min');
    assert.equal(duration(300, t), '5 min');
  });
});
