"""The widget fits in WebKit: on a 320 x 568 phone screen (inline and floating) and in a 260 px column of the
example app's page, in each state short of a call (idle, consent, requesting, an error with the longest
message, the browser-without-WebRTC error), light and dark: nothing sticks out or scrolls sideways.

MiniBrowser's window is no narrower than about 450 px, so the phone screen is a 320 x 568 frame: a viewport
of its own, which the widget's CSS (100vw, 100dvh, the media queries) follows. Its page is written in the
frame (srcdoc: the example app's pages may not be framed) with the app's stylesheet and the widget's script.
"""

from __future__ import annotations

from pathlib import Path

from tests.webkit.conftest import (
    ANSWER_BUSY,
    HOLD_CREATE,
    PRETEND_WEBRTC,
    WEBKIT_MARKS,
    WebKitWidget,
    press,
    wait_for,
    widget_in_page,
)

pytestmark = WEBKIT_MARKS

PHONE = (320, 568)
PHONE_PAGE = """<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width">
<link rel="stylesheet" href="/static/style.css"></head><body><main class="wrap">
<p>Questions about your order? Our assistant answers at once, day and night.</p>
<hms-webcall id="hero-call"></hms-webcall></main><hms-webcall id="floating" floating></hms-webcall>
<script src="/hms/widget.js" data-launcher="false"></script></body></html>"""
CONSENT = "I agree that this call is recorded and transcribed to answer my questions."

# What sticks out: of the viewport, of the page (sideways scrolling), of `column` if given, and (on a phone
# screen) a floating panel not wholly on screen or an inline one taller than the screen.
OVERFLOW = """
const [sel, column, phone] = arguments;
const problems = [];
const el = document.querySelector(sel);
const panel = el.shadowRoot.querySelector('[part~=panel]');
const root = el.shadowRoot.querySelector('[part~=root]');
const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
if (document.documentElement.scrollWidth > vw) {
  problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
}
const limit = column ? document.querySelector(column).getBoundingClientRect() : { left: 0, right: vw };
const open = panel && panel.getClientRects().length ? panel : root;
const boxes = { host: el.getBoundingClientRect(), shown: open.getBoundingClientRect() };
for (const [name, b] of Object.entries(boxes)) {
  if (b.width && (b.left < limit.left - 0.5 || b.right > limit.right + 0.5)) {
    problems.push(`${name} x=${b.left}..${b.right} outside ${limit.left}..${limit.right}`);
  }
}
for (const inner of open.querySelectorAll('*')) {
  const b = inner.getBoundingClientRect();
  if (b.width && (b.left < boxes.shown.left - 0.5 || b.right > boxes.shown.right + 0.5)) {
    problems.push(`${inner.getAttribute('part') || inner.tagName} sticks out of the panel`);
  }
}
const b = boxes.shown;
if (phone && el.hasAttribute('floating') && (b.top < -0.5 || b.bottom > vh + 0.5)) {
  problems.push(`floating panel y=${b.top}..${b.bottom} outside 0..${vh}`);
}
if (phone && !el.hasAttribute('floating') && b.height > vh + 0.5) {
  problems.push(`panel ${b.height} px high on a ${vh} px screen`);
}
return problems;
"""


def check(widget: WebKitWidget, state: str, column: str | None = None, phone: bool = False) -> None:
    """Light and dark (the theme attribute), each after a layout pass with its styles."""
    for theme in ("light", "dark"):
        widget.set(theme=theme)
        problems = widget.driver.execute_script(OVERFLOW, widget.selector, column, phone)
        assert not problems, f"{widget.selector}, {state} ({theme}): {problems}"


def walk_states(widget: WebKitWidget, shots: Path, name: str, column: str | None = None, phone=False) -> None:
    """idle -> consent -> requesting (held) -> idle -> error (busy) -> error (no WebRTC), checked in each."""
    driver = widget.driver
    driver.execute_script("localStorage.removeItem('hms-webcall:consent')")
    widget.set(consent=CONSENT)
    check(widget, "idle", column, phone)

    widget.click("launcher")
    wait_for(lambda: widget.visible("consent"), what="the consent text")
    check(widget, "consent", column, phone)
    widget.screenshot(shots / f"webkit-{name}-consent.png")
    widget.click("consent-check")
    widget.click("consent-start")
    widget.wait_state("requesting")
    check(widget, "requesting", column, phone)
    widget.js("el.end();")
    widget.wait_state("idle")

    driver.execute_script(ANSWER_BUSY)
    widget.click("launcher")
    widget.wait_state("error")
    assert widget.events("error")[-1]["code"] == "busy"
    check(widget, "error (busy)", column, phone)

    driver.execute_script("delete window.RTCPeerConnection;")
    widget.click("close")
    widget.click("launcher")
    widget.wait_state("error")
    assert widget.events("error")[-1]["code"] == "unsupported_browser"
    assert widget.message().startswith("This browser can't make voice calls.")
    check(widget, "error (no WebRTC)", column, phone)
    widget.screenshot(shots / f"webkit-{name}-unsupported.png")
    press(driver, "ESCAPE")  # closes the panel, as its close button does
    widget.wait_state("idle")


def test_every_state_fits_a_320px_screen_inline_and_floating(
    launch_webkit, example_app_factory, artifacts_dir
):
    app = example_app_factory()
    driver = launch_webkit()
    driver.get(f"{app.url}/")
    frame = driver.execute_script(
        """const frame = document.createElement('iframe');
        frame.srcdoc = arguments[0];
        frame.style.cssText = `width: ${arguments[1]}px; height: ${arguments[2]}px; border: 0`;
        document.body.replaceChildren(frame);
        return frame;""",
        PHONE_PAGE,
        *PHONE,
    )
    driver.switch_to.frame(frame)
    inline = widget_in_page(driver, PRETEND_WEBRTC, HOLD_CREATE)
    assert driver.execute_script("return [innerWidth, innerHeight];") == list(PHONE)
    walk_states(inline, artifacts_dir, "320-inline", phone=True)
    floating = WebKitWidget(driver, "hms-webcall#floating")
    driver.execute_script(PRETEND_WEBRTC + HOLD_CREATE)
    walk_states(floating, artifacts_dir, "320-floating", phone=True)


def test_widget_fits_a_260px_column(launch_webkit, example_app_factory, artifacts_dir):
    app = example_app_factory()
    driver = launch_webkit()
    driver.get(f"{app.url}/")
    widget = widget_in_page(driver, PRETEND_WEBRTC, HOLD_CREATE)
    driver.execute_script(
        """const col = document.createElement('div');
        col.id = 'narrow'; col.style.width = '260px';
        document.querySelector('main, body').prepend(col);
        col.append(document.querySelector('#hero-call'));"""
    )
    assert (
        driver.execute_script("return document.querySelector('#narrow').getBoundingClientRect().width;")
        == 260
    )
    walk_states(widget, artifacts_dir, "260-column", column="#narrow")
    # The panel takes the column's width (narrower than its own 340 px).
    widget.click("launcher")
    widget.wait_state("error")
    width = widget.js("return root.querySelector('[part~=panel]').getBoundingClientRect().width;")
    assert abs(width - 260) <= 1
