// The element's class as GitHub's @github/*-element packages ship theirs: importable without registering
// anything (also where there is no DOM, as in a server render), and registered by the page under the tag and
// in the registry it chooses: HMSWebCallElement.define(tag, registry).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { define, HMSWebCallElement as PackageElement } from '../src/define.js';
import { HMSWebCallElement, TAG } from '../src/shell.js';

/** A CustomElementRegistry that records what is defined in it. */
function registry() {
  const defined = new Map();
  return {
    defined,
    define(tag, constructor) {
      if (defined.has(tag)) throw new Error(`${tag} is already defined`);
      defined.set(tag, constructor);
    },
    get: (tag) => defined.get(tag),
  };
}

/** `customElements` (and `location`) on globalThis for the duration of a test (`t` from node:test). */
function globals(t, values) {
  for (const [name, value] of Object.entries(values)) {
    const had = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    t.after(() => (had ? Object.defineProperty(globalThis, name, had) : delete globalThis[name]));
  }
}

describe('the element class', () => {
  it('is defined under another tag in the registry given, and nowhere else', (t) => {
    const page = registry();
    globals(t, { customElements: page });
    const scoped = registry();
    class SupportCall extends HMSWebCallElement {}
    assert.equal(SupportCall.define('support-call', scoped), SupportCall);
    assert.deepEqual([...scoped.defined], [['support-call', SupportCall]]);
    assert.equal(page.defined.size, 0);
  });

  it("is <hms-webcall> in the page's customElements by default", (t) => {
    const page = registry();
    globals(t, { customElements: page });
    class Element extends HMSWebCallElement {}
    assert.equal(Element.define(), Element);
    assert.deepEqual([...page.defined], [['hms-webcall', Element]]);
    assert.equal(TAG, 'hms-webcall');
  });

  it('a subclass shares the page-wide strings and the call code of the class it extends', () => {
    class SupportCall extends PackageElement {}
    assert.equal(SupportCall.strings, HMSWebCallElement.strings);
    assert.equal(SupportCall.env, PackageElement.env);
    assert.equal(typeof SupportCall.env?.loadCall, 'function');
  });
});

describe('the npm package', () => {
  it("exports the class with its own call code, the extension's prefix resolved when first needed", (t) => {
    // Imported above without a `location`: nothing was resolved then.
    globals(t, { location: { href: 'https://site.example/shop/cart' } });
    assert.equal(PackageElement.env?.base, 'https://site.example/hms/');
    assert.equal(PackageElement.env?.pageUrl, 'https://site.example/shop/cart');
    assert.equal(PackageElement.env?.scriptDefault('theme'), null);
  });

  it('define() registers <hms-webcall> once, with its base and defaults', (t) => {
    const page = registry();
    globals(t, { customElements: page, location: { href: 'https://site.example/shop/' } });
    const env = PackageElement.env;
    t.after(() => (PackageElement.env = env));
    const Element = define({ base: '/voice/', defaults: { theme: 'dark' } });
    assert.equal(Element, PackageElement);
    assert.deepEqual([...page.defined], [['hms-webcall', PackageElement]]);
    assert.equal(PackageElement.env?.base, 'https://site.example/voice/');
    assert.equal(PackageElement.env?.scriptDefault('theme'), 'dark');
    assert.equal(define({ base: '/other/' }), PackageElement, 'a second define() returns the class registered');
    assert.equal(PackageElement.env?.base, 'https://site.example/voice/');
  });
});
