"""What phones and Safari need, proven in Chromium (and in Firefox where its driver and fake devices allow:
the voice processing asked for, push-to-talk) against the sandbox: sound the browser blocked comes back
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
SERIOUS = ("serious", "critical")
ONE_FAKE_MICROPHONE = (
    "Firefox's fake media (media.navigator.streams.fake) has one microphone, none to choose instead"
)

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


def into_column(widget: Widget) -> None:
    """Moves the element into a 260 px column at the top of the page (as test_widget_layout.py does)."""
    widget.page.evaluate(
        """(sel) => {
          const col = document.createElement('div');
          col.id = 'narrow';
          col.style.width = '260px';
          document.querySelector('main, body').prepend(col);
          col.append(document.querySelector(sel));
        }""",
        widget.selector,
    )


@pytest.mark.engines(
    "chromium",
    "firefox",
    skip={
        "firefox": "Firefox driven over WebDriver BiDi (Playwright 1.64) has its page user-activated from "
        "the start (navigator.userActivation.hasBeenActive is true before any click), so even with "
        "media.autoplay.default=1 its sound is never blocked"
    },
)
def test_blocked_sound_shows_a_tap_control_that_plays_it(launch_chromium, engine, app, artifacts_dir):
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
    into_column(widget)
    assert overflow(widget, "#narrow") == []
    widget.screenshot(artifacts_dir / "widget-tap-to-hear-260.png")

    tap.click()
    wait_for(lambda: audio_playing(widget), timeout=10, what="the assistant's audio to play")
    tap.wait_for(state="hidden")
    assert page.evaluate("__audio") == [{"blocked": True}, {"blocked": False}]
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


def start_recorded(browser, app, *scripts: str, **attributes: str) -> Widget:
    """A page with the recorders of this module, the element's ``attributes`` set, and a call made live."""
    context, widget = open_widget(browser, f"{app.url}/")
    for script in (PC_RECORDER, EVENTS, CONSTRAINTS, *scripts):
        context.add_init_script(script)
    widget.page.reload()
    widget.page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    widget.set(**attributes)
    widget.part("launcher").click()
    widget.wait_state("live")
    return widget


PROCESSING = {"echoCancellation": True, "noiseSuppression": True, "autoGainControl": True}


@pytest.mark.engines("chromium", "firefox")
def test_the_microphone_is_asked_with_voice_processing_and_an_attribute_turns_it_off(browser, app):
    widget = start_recorded(browser, app)
    page = widget.page
    assert page.evaluate("__asked")[0]["audio"] == {**PROCESSING, "voiceIsolation": True}
    widget.part("hangup").click()
    widget.wait_state("ended")

    # audio-processing="off": the next call asks for none of it. (The microphone is asked for before the
    # call is created, which the server may refuse for a moment: the last call's slot is freed when HMS
    # reports it ended.)
    widget.set(audio_processing="off")
    page.evaluate("__asked.length = 0")
    widget.part("retry").click()
    widget.wait_state("requesting", "connecting", "live", "error")
    off = page.evaluate("__asked")[0]["audio"]
    assert {k: off[k] for k in PROCESSING} == dict.fromkeys(PROCESSING, False)
    widget.host.evaluate("(el) => el.end()")
    page.context.close()


@pytest.mark.engines("chromium", "firefox", skip={"firefox": ONE_FAKE_MICROPHONE})
def test_a_chosen_microphone_is_asked_as_ideal_and_the_call_sends_it(browser, app):
    widget = start_recorded(browser, app)
    page = widget.page
    # The visitor chooses a microphone: it is asked for as "ideal" (as iOS wants); Chromium ignores that,
    # so the widget asks again with "exact", and the call sends the chosen one.
    widget.part("mic-select").select_option(label="Fake Audio Input 1")
    wait_for(
        lambda: sent_mic_labels(widget) == ["Fake Audio Input 1"], timeout=10, what="the chosen microphone"
    )
    chosen = page.evaluate("localStorage.getItem('hms-webcall:mic')")
    asked = [a["audio"].get("deviceId") for a in page.evaluate("__asked")]
    assert asked == [None, {"ideal": chosen}, {"exact": chosen}]
    widget.part("hangup").click()
    widget.wait_state("ended")
    # The next call asks for the remembered one as "ideal" too.
    page.evaluate("__asked.length = 0")
    widget.part("retry").click()
    widget.wait_state("requesting", "connecting", "live", "error")
    assert page.evaluate("__asked")[0]["audio"]["deviceId"] == {"ideal": chosen}
    widget.host.evaluate("(el) => el.end()")
    page.context.close()


@pytest.mark.engines(
    "chromium",
    "firefox",
    skip={
        "firefox": "Firefox's fake media (media.navigator.streams.fake) has one microphone and no 'default' "
        "entry: there is no second microphone for the system's default to become"
    },
)
def test_a_headset_plugged_in_or_pulled_out_mid_call_is_followed(browser, app):
    widget = start_recorded(browser, app, DEVICE_CHANGES)
    page = widget.page
    # The microphone is published alongside the call going live, within moments.
    wait_for(lambda: sent_mic_labels(widget) == ["Fake Default Audio Input"], timeout=10, what="the mic sent")

    def moved_to(label: str) -> None:
        wait_for(lambda: sent_mic_labels(widget) == [label], timeout=10, what=f"the call to send {label}")
        last = page.evaluate("__dev")[-1]
        assert (last["kind"], last["label"], last["auto"]) == ("audioinput", label, True)

    # No microphone chosen: the system's default becomes a headset ("Fake Audio Input 1"); the call follows.
    page.evaluate("__defaultIs('Fake Audio Input 1')")
    moved_to("Fake Audio Input 1")
    # The visitor chooses another one, which is then pulled out: back to the default, and to the chosen
    # one when it is plugged in again.
    widget.part("mic-select").select_option(label="Fake Audio Input 2")
    wait_for(
        lambda: sent_mic_labels(widget) == ["Fake Audio Input 2"], timeout=10, what="the chosen microphone"
    )
    page.evaluate("__unplug('Fake Audio Input 2')")
    moved_to("Fake Audio Input 1")
    page.evaluate("__unplug(null)")
    moved_to("Fake Audio Input 2")
    # The call went on throughout, and only the microphone in use is open.
    assert widget.states() == ["preflight", "requesting", "connecting", "live"]
    assert widget.live_mic_tracks() == 1
    widget.part("hangup").click()
    widget.wait_state("ended")
    page.context.close()


def test_a_tab_back_from_the_background_plays_again(chromium, app):
    widget = start_recorded(chromium, app)
    page = widget.page
    wait_for(lambda: audio_playing(widget), timeout=20, what="the assistant's audio to play")
    # What a phone does to a hidden tab's sound, then the tab comes back.
    page.evaluate(
        """(sel) => {
          for (const a of document.querySelector(sel).shadowRoot.querySelectorAll('audio')) a.pause();
          const shown = (hidden) => {
            Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
            Object.defineProperty(document, 'visibilityState', { value: hidden ? 'hidden' : 'visible',
              configurable: true });
            document.dispatchEvent(new Event('visibilitychange'));
          };
          shown(true);
          shown(false);
        }""",
        widget.selector,
    )
    wait_for(lambda: audio_playing(widget), timeout=10, what="the assistant's audio to play again")
    widget.part("hangup").click()
    widget.wait_state("ended")
    page.context.close()


def test_the_screen_stays_on_during_a_live_call(chromium, app):
    widget = start_recorded(chromium, app, WAKE_LOCK)
    page = widget.page
    wait_for(lambda: page.evaluate("__wake") == [["request", "screen"]], timeout=5, what="a screen wake lock")
    widget.part("hangup").click()
    widget.wait_state("ended")
    wait_for(
        lambda: page.evaluate("__wake") == [["request", "screen"], ["release", "screen"]],
        timeout=5,
        what="the wake lock to be let go",
    )
    page.context.close()


def sent_enabled(widget: Widget) -> list[bool]:
    """Whether each audio track the call's connections send carries sound (a muted one does not)."""
    return widget.page.evaluate(
        "__pcs.flatMap((pc) => pc.getSenders()).filter((s) => s.track && s.track.kind === 'audio')"
        ".map((s) => s.track.enabled)"
    )


@pytest.mark.engines("chromium", "firefox")
def test_push_to_talk(browser, app):
    widget = start_recorded(browser, app, talk_mode="push")
    page = widget.page
    talk = widget.part("talk")
    hint = widget.host.get_by_role("status").filter(has_text=re.compile("Space"))

    def talking(on: bool) -> None:
        wait_for(
            lambda: sent_enabled(widget) == [on], timeout=5, what=f"the microphone {'on' if on else 'off'}"
        )
        assert talk.get_attribute("aria-pressed") == str(on).lower()
        assert page.evaluate("document.querySelector('#hero-call').muted") is (not on)
        assert hint.count() == (0 if on else 1)

    assert talk.inner_text() == "Hold to talk"
    assert not widget.part("mute").is_visible()
    assert hint.inner_text() == "Hold the button or Space to talk."
    talking(False)

    # The Space bar held anywhere on the page (the live call put the focus on "Hang up", where Space is the
    # button's: the focus leaves it first; Firefox's blur() on the host keeps it inside the shadow root)...
    widget.host.evaluate("(el) => el.shadowRoot.activeElement.blur()")
    scrolled = page.evaluate("scrollY")  # where the launcher's click left it (Firefox's driver scrolls to it)
    page.keyboard.down("Space")
    talking(True)
    page.keyboard.up("Space")
    talking(False)
    assert page.evaluate("scrollY") == scrolled  # the Space bar did not scroll the page
    # ... or on the focused button, by keyboard ...
    talk.focus()
    page.keyboard.down("Space")
    talking(True)
    page.keyboard.up("Space")
    talking(False)
    # ... or the button held with a pointer (a finger on a phone).
    talk.hover()
    page.mouse.down()
    talking(True)
    page.mouse.up()
    talking(False)
    # Typing a space in a field of the page is typing, not talking.
    page.evaluate("document.body.append(Object.assign(document.createElement('input'), {id: 'field'}))")
    page.focus("#field")
    page.keyboard.down("Space")
    page.wait_for_timeout(300)
    assert sent_enabled(widget) == [False]
    page.keyboard.up("Space")
    assert page.input_value("#field") == " "

    widget.part("hangup").click()
    widget.wait_state("ended")
    assert not talk.is_visible()
    page.context.close()


def test_the_talk_button_fits_phones_and_a_narrow_column(chromium, app, artifacts_dir):
    require(AXE.is_file(), f"axe-core is not installed ({AXE})")
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    page.set_viewport_size({"width": 320, "height": 700})
    widget.set(talk_mode="push")
    widget.part("launcher").click()
    widget.wait_state("live")
    widget.part("talk").wait_for(state="visible")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert overflow(widget) == [], scheme
    page.emulate_media(color_scheme="light")
    widget.screenshot(artifacts_dir / "widget-push-to-talk-320.png")
    page.add_script_tag(path=str(AXE))
    # The widget only: the example page's own <pre> blocks scroll sideways at 320 px (axe says so).
    results = page.evaluate(
        "axe.run({ include: [['#hero-call']] }, { resultTypes: ['violations', 'passes'] })"
    )
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]]) for v in results["violations"] if v["impact"] in SERIOUS
    ]
    assert results["passes"], "axe checked nothing"
    assert not serious, serious

    page.set_viewport_size({"width": 1100, "height": 900})
    into_column(widget)
    assert overflow(widget, "#narrow") == []
    widget.screenshot(artifacts_dir / "widget-push-to-talk-260.png")
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()
