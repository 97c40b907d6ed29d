"""The widget fits where it is put: phone screens (320 to 414 px wide, 568 px high) inline on the example
app's home page and floating on its Calls page, and a narrow page column.

In every state (idle, consent, connecting, live with a long transcript, ended with feedback, error), light
and dark, the panel stays inside its column and the screen, and nothing scrolls sideways.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import Widget, open_widget, turns, wait_for

pytestmark = pytest.mark.browser

# A long line and a longer unbroken "word" (a URL), the kind that pushes narrow layouts sideways.
LONG_LINES = [
    "Here is everything you asked about, in one long sentence that goes on and on so that it has to wrap "
    "over several lines of the transcript even on a wide screen.",
    "See https://support.example.com/" + "very-long-path-segment-" * 8 + "end for the details.",
]


@pytest.fixture
def app(example_app_factory, widget_built, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"lines": LONG_LINES, "agent_hangup": False}))
    return example_app_factory(sandbox_args=["--script", str(script)])


def overflow(widget: Widget, column: str | None = None) -> list[str]:
    """What sticks out: of the viewport, of the page (sideways scrolling) and of ``column`` if given."""
    return widget.page.evaluate(
        """([sel, column]) => {
          const problems = [];
          const vw = document.documentElement.clientWidth;
          const el = document.querySelector(sel);
          // Before the first call only the launcher is there: the panel comes with the call code.
          const panel = el.shadowRoot.querySelector('[part~=panel]') || el.shadowRoot.querySelector('.r');
          const boxes = { host: el.getBoundingClientRect(), panel: panel.getBoundingClientRect() };
          if (document.documentElement.scrollWidth > vw) {
            problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
          }
          const limit = column
            ? document.querySelector(column).getBoundingClientRect()
            : { left: 0, right: vw };
          for (const [name, b] of Object.entries(boxes)) {
            if (!b.width) continue;
            if (b.left < limit.left - 0.5 || b.right > limit.right + 0.5) {
              problems.push(`${name} x=${b.left}..${b.right} outside ${limit.left}..${limit.right}`);
            }
          }
          // Nothing inside the panel is wider than the panel (a button row, a select, a transcript line).
          for (const inner of panel.querySelectorAll('*')) {
            const b = inner.getBoundingClientRect();
            if (b.width && (b.left < boxes.panel.left - 0.5 || b.right > boxes.panel.right + 0.5)) {
              problems.push(`${inner.getAttribute('part') || inner.tagName} sticks out of the panel`);
            }
          }
          return problems;
        }""",
        [widget.selector, column],
    )


def check_both_themes(
    widget: Widget, state: str, column: str | None = None, widths: tuple[int, ...] = ()
) -> None:
    """Light and dark, at each of ``widths`` (800 px high) if given, else at the page's own size."""
    for width in widths or (None,):
        if width:
            widget.page.set_viewport_size({"width": width, "height": 800})
        for scheme in ("light", "dark"):
            widget.page.emulate_media(color_scheme=scheme)
            widget.page.wait_for_timeout(50)  # a layout pass with the other theme's styles
            problems = overflow(widget, column)
            assert not problems, f"{state} ({scheme}, {widget.page.viewport_size['width']} px): {problems}"
    widget.page.emulate_media(color_scheme="light")


def walk_states(widget: Widget, column: str | None = None, widths: tuple[int, ...] = ()) -> None:
    """idle -> connecting -> live (long transcript) -> ended -> error, checking the boxes in each."""
    page = widget.page
    check_both_themes(widget, "idle", column, widths)

    # Connecting: the room is joined, the assistant is held back until the test lets it in.
    held = []
    page.route("**/hms/web-calls", lambda route: held.append(route))
    widget.part("launcher").click()
    widget.wait_state("requesting")
    while not held:  # route handlers run while Playwright waits, not during time.sleep
        page.wait_for_timeout(100)
    check_both_themes(widget, "requesting", column, widths)
    held[0].continue_()
    page.unroute("**/hms/web-calls")
    widget.wait_state("connecting", "live")
    check_both_themes(widget, "connecting", column, widths)

    widget.wait_state("live")
    wait_for(
        lambda: any("very-long-path" in e["text"] for e in widget.transcript()),
        timeout=60,  # the visitor's turn first: slow on a loaded machine, in Firefox most
        what="the long transcript line",
    )
    check_both_themes(widget, "live", column, widths)

    widget.part("hangup").click()
    widget.wait_state("ended")
    check_both_themes(widget, "ended", column, widths)

    # Error: the backend refuses the next call (busy, with a wait), so the panel shows its longest message.
    page.route(
        "**/hms/web-calls",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "120", "Content-Type": "application/json"},
            body=json.dumps({"error": {"code": "busy", "message": "busy"}}),
        ),
    )
    widget.part("retry").click()
    widget.wait_state("error")
    check_both_themes(widget, "error", column, widths)


# The phone screens of the issue: the narrowest (320 x 568) up to a large phone.
PHONE_WIDTHS = [320, 360, 375, 414]
PHONE_HEIGHT = 568
# Where a page puts the widget: inline in the home page's column, or the floating launcher of the Calls page.
PLACEMENTS = [("inline", "/", "hms-webcall#hero-call"), ("floating", "/calls", "hms-webcall[floating]")]


def off_screen(widget: Widget) -> list[str]:
    """What a phone screen cannot show: a floating panel is to be wholly on screen, an inline one no taller
    than the screen (the page scrolls to it)."""
    return widget.page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel);
          const panel = el.shadowRoot.querySelector('[part~=panel]') || el.shadowRoot.querySelector('.r');
          const b = panel.getBoundingClientRect();
          const vh = document.documentElement.clientHeight;
          if (el.hasAttribute('floating')) {
            const out = b.top < -0.5 || b.bottom > vh + 0.5;
            return out ? [`panel y=${b.top}..${b.bottom} outside 0..${vh}`] : [];
          }
          return b.height > vh + 0.5 ? [`panel ${b.height} px high on a ${vh} px screen`] : [];
        }""",
        widget.selector,
    )


def check_screen(widget: Widget, placement: str, state: str) -> None:
    """The state on every phone screen: the widget's layout is CSS alone, so a resize lays it out anew
    (reading a box forces that layout), as a page opened at that width would be."""
    problems = []
    for width in PHONE_WIDTHS:
        widget.page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
        problems += [f"{width} x {PHONE_HEIGHT}: {p}" for p in overflow(widget) + off_screen(widget)]
    assert not problems, f"{placement}, {state}: {problems}"


def walk_phone_states(widget: Widget, placement: str) -> None:
    """idle -> consent -> requesting -> connecting -> live (long transcript) -> ended (feedback asked, then
    rated), checking the boxes in each."""
    page = widget.page
    page.evaluate("localStorage.removeItem('hms-webcall:consent')")
    widget.set(consent="I agree that this call is recorded and transcribed to answer my questions.")
    check_screen(widget, placement, "idle")

    widget.part("launcher").click()
    widget.part("consent").wait_for(state="visible")
    check_screen(widget, placement, "consent")
    widget.part("consent-check").check()

    held = []
    page.route("**/hms/web-calls", lambda route: held.append(route))
    widget.part("consent-start").click()
    widget.wait_state("requesting")
    while not held:  # route handlers run while Playwright waits, not during time.sleep
        page.wait_for_timeout(100)
    check_screen(widget, placement, "requesting")
    held[0].continue_()
    page.unroute("**/hms/web-calls")
    widget.wait_state("connecting", "live")
    check_screen(widget, placement, "connecting")

    widget.wait_state("live")
    wait_for(
        lambda: any("very-long-path" in e["text"] for e in widget.transcript()),
        timeout=60,  # the visitor's turn first: slow on a loaded machine, in Firefox most
        what="the long transcript line",
    )
    check_screen(widget, placement, "live")

    widget.part("hangup").click()
    widget.wait_state("ended")
    widget.part("feedback").wait_for(state="visible")
    check_screen(widget, placement, "ended, feedback asked")
    widget.part("feedback-up").click()
    widget.part("feedback-comment").fill("x" * 200)
    check_screen(widget, placement, "ended, rated")


@pytest.mark.engines("chromium", "firefox")
def test_every_state_fits_phone_screens_inline_and_floating(browser, engine, app):
    """The inline widget on the home page, then the floating one on the Calls page: one call each, every
    state checked at every phone width (a call per width took four times as long and showed no more)."""
    context, widget = open_widget(browser, f"{app.url}/", init_scripts=turns(engine))
    page = widget.page
    page.set_viewport_size({"width": PHONE_WIDTHS[0], "height": PHONE_HEIGHT})
    for placement, path, selector in PLACEMENTS:
        page.goto(f"{app.url}{path}")
        page.wait_for_function("(sel) => document.querySelector(sel)?.shadowRoot", arg=selector)
        walk_phone_states(Widget(page, selector), placement)
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_home_page_fits_phone_widths_in_both_themes(browser, engine, app):
    """One call, each state checked at 320 and 375 px (a resize lays the CSS-only widget out anew)."""
    context, widget = open_widget(browser, f"{app.url}/", init_scripts=turns(engine))
    widget.page.set_viewport_size({"width": 320, "height": 800})
    walk_states(widget, widths=(320, 375))
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_widget_fits_a_narrow_column(browser, engine, app):
    context, widget = open_widget(browser, f"{app.url}/", init_scripts=turns(engine))
    widget.page.evaluate(
        """() => {
          const col = document.createElement('div');
          col.id = 'narrow';
          col.style.width = '260px';
          document.querySelector('main, body').prepend(col);
          col.append(document.querySelector('#hero-call'));
        }"""
    )
    box = widget.page.locator("#narrow").bounding_box()
    assert box["width"] == 260
    walk_states(widget, column="#narrow")
    # The panel uses the column's width (it is narrower than the panel's own 340 px).
    assert widget.part("panel").bounding_box()["width"] == pytest.approx(260, abs=1)
    context.close()
