"""What phones and Safari need, proven in Chromium against the sandbox: sound the browser blocked comes back
with one tap, a headset plugged in or pulled out mid-call is followed, the microphone is asked for with the
voice processing on and the chosen device as "ideal", a tab back from the background plays again, the
screen stays on during a live call, and push-to-talk.

A real iPhone and Android phone are checked by hand (docs/contributing.md): no phone is reachable from here.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Widget, open_widget, wait_for
from tests.browser.test_widget_devices import PC_RECORDER, sent_mic_labels
from tests.browser.test_widget_layout import overflow
from tests.conftest import ROOT, require

pytestmark = pytest.mark.browser

AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"

# Every hms:audio-blocked and hms:device-change, in order.
EVENTS = """
window.__audio = []; window.__dev = [];
document.addEventListener('hms:audio-blocked', (e) => __audio.push(e.detail));
document.addEventListener('hms:device-change', (e) => __dev.push(e.detail));
"""

# Every getUserMedia request's constraints (observed, not changed).
CONSTRAINTS = """
window.__asked = [];
const ask = navigator.mediaDevices.getUserMedia;
navigator.mediaDevices.getUserMedia = function (constraints) {
  __asked.push(JSON.parse(JSON.stringify(constraints)));
  return ask.call(this, constraints);
};
"""

# Chromium's fake devices never change, so the page is shown another list: `__defaultIs(label)` makes the
# "default" microphone stand for that one (as Chromium lists it when the system's default changes, e.g. a
# headset plugged in), `__unplug(label)` leaves that microphone out; each fires a devicechange as the
# browser does.
DEVICE_CHANGES = """
window.__default = null; window.__unplugged = null;
const list = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
navigator.mediaDevices.enumerateDevices = async () => {
  const devices = (await list()).map((d) => ({ kind: d.kind, deviceId: d.deviceId, groupId: d.groupId,
    label: d.label, toJSON() { return this; } }));
  const target = devices.find((d) => d.kind === 'audioinput' && d.label === __default);
  for (const d of devices) {
    if (target && d.kind === 'audioinput' && d.deviceId === 'default') {
      d.groupId = target.groupId;
      d.label = `Default - ${target.label}`;
    }
  }
  return devices.filter((d) => !(d.kind === 'audioinput' && d.label === __unplugged));
};
const changed = () => navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
window.__defaultIs = (label) => { __default = label; changed(); };
window.__unplug = (label) => { __unplugged = label; changed(); };
"""

# Records the screen wake lock the page asks for and lets go of: [['request'|'release', type]].
WAKE_LOCK = """
window.__wake = [];
const request = navigator.wakeLock && navigator.wakeLock.request.bind(navigator.wakeLock);
if (request) {
  navigator.wakeLock.request = async (type) => {
    __wake.push(['request', type]);
    const sentinel = await request(type);
    const release = sentinel.release.bind(sentinel);
    sentinel.release = () => (__wake.push(['release', type]), release());
    return sentinel;
  };
}
"""


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


def audio_playing(widget: Widget) -> bool:
    """The assistant's audio element is there, inline, and playing."""
    return widget.page.evaluate(
        """(sel) => [...document.querySelector(sel).shadowRoot.querySelectorAll('audio')]
             .some((a) => !a.paused && a.hasAttribute('playsinline'))""",
        widget.selector,
    )


def test_blocked_sound_shows_a_tap_control_that_plays_it(launch_chromium, app, artifacts_dir):
    # A browser that lets sound play only after a gesture (as iOS does), and a call started without one.
    # Playwright's own page evaluations count as a gesture, so until the sound is reported blocked the test
    # only listens to what the page logs.
    browser = launch_chromium(
        without=("--autoplay-policy=no-user-gesture-required",),
        extra=("--autoplay-policy=user-gesture-required",),
    )
    context = browser.new_context(viewport={"width": 320, "height": 700})
    context.add_init_script(EVENTS)
    context.add_init_script(
        """
        const log = (what) => console.log(`hms ${what} ${navigator.userActivation.hasBeenActive}`);
        document.addEventListener('hms:state', (e) => log(`state=${e.detail.state}`));
        document.addEventListener('hms:audio-blocked', (e) => log(`blocked=${e.detail.blocked}`));
        addEventListener('load', () => document.querySelector('#hero-call').start());
        """
    )
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text) if m.text.startswith("hms ") else None)
    page.goto(f"{app.url}/")
    for _ in range(300):  # console events arrive while Playwright waits, not during time.sleep
        if "hms state=live false" in logged and "hms blocked=true false" in logged:
            break
        page.wait_for_timeout(100)
    assert "hms state=live false" in logged and "hms blocked=true false" in logged, logged

    widget = Widget(page)
    tap = widget.part("audio-unlock")
    assert tap.is_visible()
    assert tap.inner_text() == "Tap to hear the assistant"
    assert widget.message() == "Your browser blocked the sound."
    assert page.evaluate("__audio") == [{"blocked": True}]
    assert not audio_playing(widget)
    assert overflow(widget) == []
    widget.screenshot(artifacts_dir / "widget-tap-to-hear-320.png")

    tap.click()
    wait_for(lambda: audio_playing(widget), timeout=10, what="the assistant's audio to play")
    tap.wait_for(state="hidden")
    assert page.evaluate("__audio") == [{"blocked": True}, {"blocked": False}]
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()
