// The feedback form after a call: a thumb is the rating and is sent at once; a comment is a second step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { feedbackView } from '../src/feedback-view.js';
import { tick } from './helpers.js';

/** A stand-in for the panel's elements: what the view sets, and clicks. */
function el() {
  const listeners = [];
  return {
    hidden: false,
    disabled: false,
    textContent: '',
    value: '',
    attrs: {},
    focused: 0,
    setAttribute(k, v) {
      this.attrs[k] = v;
    },
    addEventListener(_type, fn) {
      listeners.push(fn);
    },
    focus() {
      this.focused += 1;
    },
    click() {
      for (const fn of listeners) fn();
    },
  };
}

function form(answers = []) {
  const names = ['fb', 'fbAsk', 'up', 'down', 'comment', 'send', 'skip', 'fbErr', 'fbDone'];
  const $ = Object.fromEntries(names.map((n) => [n, el()]));
  const sent = [];
  const events = [];
  const c = {
    callId: 'call-1',
    async sendFeedback(rating, comment = '') {
      sent.push({ rating, comment });
      return answers.shift() ?? 'sent';
    },
  };
  let view;
  const render = () => view.update((key) => key, true);
  view = feedbackView({ refs: $, controller: c, emit: (type, detail) => events.push({ type, detail }), render });
  render();
  return { $, sent, events };
}

describe('the feedback form', () => {
  it('sends the rating on the thumb click, then offers the comment', async () => {
    const { $, sent, events } = form();
    assert.equal($.comment.hidden, true, 'no comment box before a rating');
    $.up.click();
    await tick();
    assert.deepEqual(sent, [{ rating: 'up', comment: '' }]);
    assert.deepEqual(events, [
      { type: 'feedback', detail: { callId: 'call-1', rating: 'up', comment: '', result: 'sent' } },
    ]);
    assert.equal($.fbAsk.textContent, 'feedbackRated');
    assert.equal($.comment.hidden, false);
    assert.equal($.comment.focused, 1, 'the focus moves on to the comment');
    assert.equal($.up.attrs['aria-pressed'], 'true');
    assert.equal($.up.disabled && $.down.disabled, true, 'one rating per call');
    $.down.click();
    await tick();
    assert.equal(sent.length, 1);
  });

  it('sends a comment as a second step for the same rating', async () => {
    const { $, sent, events } = form();
    $.down.click();
    await tick();
    $.comment.value = '  Too slow.  ';
    $.send.click();
    await tick();
    assert.deepEqual(sent[1], { rating: 'down', comment: 'Too slow.' });
    assert.deepEqual(events[1].detail, { callId: 'call-1', rating: 'down', comment: 'Too slow.', result: 'sent' });
    assert.equal($.fb.hidden, true);
    assert.equal($.fbDone.textContent, 'feedback_sent');
  });

  it('skipping the comment (or sending none) sends nothing more and thanks the visitor', async () => {
    for (const button of ['skip', 'send']) {
      const { $, sent, events } = form();
      $.up.click();
      await tick();
      $[button].click();
      await tick();
      assert.equal(sent.length, 1, button);
      assert.equal(events.length, 1, button);
      assert.equal($.fbDone.textContent, 'feedback_sent', button);
    }
  });

  it('a rating that failed can be given again', async () => {
    const { $, sent, events } = form(['failed']);
    $.up.click();
    await tick();
    assert.equal($.fbErr.hidden, false);
    assert.equal($.comment.hidden, true);
    assert.equal(events.length, 0);
    $.up.click();
    await tick();
    assert.equal(sent.length, 2);
    assert.equal($.fbErr.hidden, true);
    assert.equal(events[0].detail.result, 'sent');
  });

  it('a rating refused (rated already, or not this visitor’s call) ends the form with why', async () => {
    const { $, events } = form(['already_rated']);
    $.up.click();
    await tick();
    assert.equal($.fb.hidden, true);
    assert.equal($.fbDone.textContent, 'feedback_already_rated');
    assert.deepEqual(events[0].detail, { callId: 'call-1', rating: 'up', comment: '', result: 'already_rated' });
  });

  it('skipping before rating sends nothing and says so', async () => {
    const { $, sent, events } = form();
    $.skip.click();
    await tick();
    assert.equal(sent.length, 0);
    assert.deepEqual(events[0].detail, { callId: 'call-1', rating: null, comment: '', result: 'skipped' });
    assert.equal($.fbDone.hidden, true);
  });
});
