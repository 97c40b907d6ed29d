"""What the assistant is doing, seen and heard: the state in words, its level meter and the visitor's own,
during a sandbox call on a phone and in a narrow column; and axe finds nothing serious in the live panel.

The sandbox's assistant publishes ``lk.agent.state`` as LiveKit Agents do (listening, thinking once it has
heard the visitor's turn, speaking while its audio plays); Chromium's fake microphone beeps, which the
sandbox hears as the visitor's turns.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from tests.browser.conftest import Widget, open_widget, wait_for
from tests.browser.test_widget_layout import overflow
from tests.conftest import ROOT, require

pytestmark = pytest.mark.browser

AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"

# For every hms:agent-state: the state, the words the panel shows for it once rendered, whether the meters
# are shown; and the highest reading of each meter seen during the call (sampled by the page itself).
RECORDER = """(sel) => {
  const el = document.querySelector(sel);
  const q = (part) => el.shadowRoot.querySelector(`[part~="${part}"]`);
  window.__agent = [];
  // A live region rewritten is read out again: every write of the state's words that left them as they
  // were (the text before and after one mutation record alike) is kept here.
  window.__unchanged = [];
  new MutationObserver((records) => {
    for (const r of records) {
      const text = (nodes) => [...nodes].map((n) => n.textContent).join('');
      const before = r.type === 'characterData' ? r.oldValue : text(r.removedNodes);
      const after = r.type === 'characterData' ? r.target.data : text(r.addedNodes);
      if (before === after) window.__unchanged.push(after);
    }
  }).observe(q('speaking'), {
    childList: true, subtree: true, characterData: true, characterDataOldValue: true,
  });
  window.__peak = { assistant: 0, user: 0 };
  // Read a moment later, once rendered; by then a busy machine may have seen the next change already, so
  // the state current at the reading goes with it (the test checks the words of readings still current).
  let current = null;
  el.addEventListener('hms:agent-state', (e) => {
    current = e.detail.state;
    setTimeout(() => window.__agent.push({
      state: e.detail.state,
      current,
      text: q('speaking').textContent,
      meters: !!q('meters').offsetParent,
    }));
  });
  setInterval(() => {
    for (const who of ['assistant', 'user']) {
      const bar = el.shadowRoot.querySelector(`[part~="meter-${who}"]`);
      if (bar) window.__peak[who] = Math.max(window.__peak[who], Number(bar.getAttribute('aria-valuenow')));
    }
  }, 50);
}"""

WORDS = {"listening": "Listening", "thinking": "Thinking…", "speaking": "Northwind assistant is speaking"}


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


def in_column(widget: Widget, width: int = 260) -> None:
    widget.page.evaluate(
        """(width) => {
          const col = document.createElement('div');
          col.id = 'narrow';
          col.style.width = `${width}px`;
          document.querySelector('main, body').prepend(col);
          col.append(document.querySelector('#hero-call'));
        }""",
        width,
    )


def went_through(states: list[str], *wanted: str) -> bool:
    """``wanted`` appears in ``states`` in this order (other states may come between)."""
    it = iter(states)
    return all(any(s == w for s in it) for w in wanted)


def watch_a_turn(widget: Widget) -> list[str]:
    """Waits for the assistant's greeting, the visitor's turn heard (thinking), the answer and listening
    again; checks what the panel showed at each change; returns the states reported."""
    page = widget.page
    page.evaluate(RECORDER, widget.selector)

    def states() -> list[str]:
        return [d["state"] for d in widget.events("agent-state")]

    wait_for(
        lambda: went_through(states(), "speaking", "listening", "thinking", "speaking", "listening"),
        timeout=40,
        what=f"the agent state to go round a turn (so far {states()})",
    )
    seen = states()
    assert all(a != b for a, b in pairwise(seen)), f"an event without a change: {seen}"
    assert set(seen) <= set(WORDS)
    shown = page.evaluate("window.__agent")
    for each in shown:
        if each["state"] == each["current"]:
            assert each["text"] == WORDS[each["state"]], each
        assert each["meters"], each
    # A line lasts seconds, far longer than a reading takes: its words are always read while current.
    assert any(each["state"] == each["current"] == "speaking" for each in shown), shown
    # Not chatty: the words are written when they change only, not again with every second of the timer or
    # level sample (a count against the states seen would race the next change on a busy machine).
    assert page.evaluate("window.__unchanged") == [], shown
    return seen


@pytest.mark.parametrize("layout", ["phone-375", "column-260"])
def test_agent_state_and_meters_during_a_call(chromium, app, artifacts_dir, layout):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    column = None
    if layout == "phone-375":
        page.set_viewport_size({"width": 375, "height": 800})
    else:
        in_column(widget)
        column = "#narrow"
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    watch_a_turn(widget)
    assert widget.part("speaking").get_attribute("aria-live") == "polite"

    # Both meters move: the assistant's voice and the visitor's (fake, beeping) microphone.
    wait_for(
        lambda: all(page.evaluate("window.__peak")[who] > 0 for who in ("assistant", "user")),
        timeout=15,
        what="both level meters to show sound",
    )
    for who, label in (("assistant", "Northwind assistant"), ("user", "You")):
        meter = widget.part(f"meter-{who}")
        assert meter.is_visible()
        assert meter.get_attribute("role") == "meter" and meter.get_attribute("aria-label")
        assert meter.evaluate("(bar) => bar.previousElementSibling.textContent") == label

    # A picture of the assistant speaking with its meter up.
    page.wait_for_function(
        """(sel) => {
          const root = document.querySelector(sel).shadowRoot;
          return root.querySelector('.r').dataset.agent === 'speaking'
            && Number(root.querySelector('[part~=meter-assistant]').getAttribute('aria-valuenow')) >= 20;
        }""",
        arg=widget.selector,
        timeout=30_000,
    )
    assert not overflow(widget, column)
    widget.screenshot(artifacts_dir / f"widget-agent-state-{layout}.png")

    widget.part("hangup").click()
    widget.wait_state("ended")
    count = len(widget.events("agent-state"))
    assert not widget.part("meters").is_visible()
    assert widget.part("speaking").inner_text() == ""
    page.wait_for_timeout(500)  # the level polling has stopped: no state is reported after the call
    assert len(widget.events("agent-state")) == count
    context.close()


def test_agent_state_without_the_agent_attribute(chromium, app):
    """A room whose agent publishes no lk.agent.state: the server's active-speaker updates and the
    transcript's timing tell the same story."""
    app.sandbox_control("POST", "/_sandbox/faults", json={"agent_state": False})
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    watch_a_turn(widget)
    context.close()


def test_the_live_panel_has_no_serious_accessibility_violations(chromium, app, artifacts_dir):
    require(AXE.is_file(), f"axe-core is not installed ({AXE})")
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    widget.page.wait_for_function(
        "(sel) => document.querySelector(sel).shadowRoot.querySelector('.r').dataset.agent",
        arg=widget.selector,
    )
    page.add_script_tag(path=str(AXE))
    # axe walks open shadow roots (the widget's is open): the panel's controls, meters and live regions.
    results = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    serious = [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious
    # The panel was really there to check: the meters, as axe saw them.
    assert widget.part("meters").is_visible()
    widget.screenshot(artifacts_dir / "widget-agent-state-axe.png")
    context.close()
