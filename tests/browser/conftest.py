"""Helpers for the widget's browser tests: the built widget, a driver for one <hms-webcall> on a page, and
extra Chromium launches for the microphone cases the shared browser cannot play (Firefox's are in
tests/fixtures/firefox.py; ``launch_browser`` of tests/fixtures/engines.py picks the engine's).

The shared ``chromium`` fixture (tests/conftest.py) auto-accepts the microphone prompt and has a fake
microphone. A denied permission needs a browser without ``--use-fake-ui-for-media-stream`` (then a context
without the permission really gets NotAllowedError); a missing microphone needs one without
``--use-fake-device-for-media-stream`` (then this machine's lack of audio input gives NotFoundError).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, require

STATIC = ROOT / "flask_hms_webcall" / "static"

# Records every widget event on the page, in order, before any page script runs.
EVENT_RECORDER = """
window.__hms = [];
for (const type of ['hms:state', 'hms:transcript', 'hms:ended', 'hms:error', 'hms:agent-state']) {
  document.addEventListener(type, (e) => window.__hms.push({ type, detail: e.detail }));
}
"""

# Keeps every microphone stream the page is given (observed, not changed), so a test can tell whether the
# browser's microphone indicator would still be on.
MIC_RECORDER = """
window.__mics = [];
const gum = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
if (gum) {
  navigator.mediaDevices.getUserMedia = function (...args) {
    return gum.apply(this, args).then((stream) => (window.__mics.push(stream), stream));
  };
}
"""

# Keeps the body of every JSON POST the page's scripts send (observed, not changed): Playwright's request
# events carry no body in Firefox (WebDriver BiDi leaves request.post_data None).
POST_RECORDER = """
window.__posts = [];
const fetchForPosts = window.fetch;
window.fetch = function (input, init) {
  if (init && init.method === 'POST' && typeof init.body === 'string') {
    window.__posts.push({ url: String(input instanceof Request ? input.url : input), body: init.body });
  }
  return fetchForPosts.apply(this, arguments);
};
"""

# Firefox's fake microphone is one endless 1 kHz tone, so a listener never hears a turn end: switching each
# microphone track off and on makes the pauses (1.5 s of tone, 1.5 s of silence) that end a turn.
TURNS = """
const gumForTurns = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
if (gumForTurns) {
  navigator.mediaDevices.getUserMedia = function (...args) {
    return gumForTurns.apply(this, args).then((stream) => {
      for (const track of stream.getAudioTracks()) {
        const timer = setInterval(() => {
          if (track.readyState === 'ended') clearInterval(timer);
          else track.enabled = !track.enabled;
        }, 1500);
      }
      return stream;
    });
  };
}
"""


def turns(engine: str) -> tuple[str, ...]:
    """The init scripts a test whose visitor must finish speaking needs in ``engine`` (Chromium's fake
    microphone beeps, with pauses, by itself)."""
    return (TURNS,) if engine == "firefox" else ()


@pytest.fixture(scope="session")
def widget_built() -> Path:
    """The built widget (``make widget``); the browser tests run what a site would serve."""
    require(
        (STATIC / "widget.js").is_file() and any(STATIC.glob("call-*.js")),
        "the widget is not built: run `make widget`",
    )
    return STATIC


@pytest.fixture
def launch_chromium(chromium) -> Iterator[Callable[..., Any]]:
    """``launch(without=(flags...), extra=(flags...))``: another Chromium like the shared one, minus some
    flags, plus others."""
    browsers = []

    def launch(*, without: tuple[str, ...] = (), extra: tuple[str, ...] = ()):
        args = [arg for arg in CHROMIUM_ARGS if arg not in without] + list(extra)
        browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture
def launch_chromium_with(launch_chromium) -> Callable[..., Any]:
    """``launch(microphone="denied" | "none" | "prompt")``, as ``launch_browser`` asks every engine: the
    permission refused (a context without it), no fake device, or Chromium's own question.

    A page refused the microphone gets its host addresses hidden behind mDNS names, which the sandbox's
    loopback-only ICE cannot reach (HMS's servers are reached from the browser's side, so it does not matter
    there): the "denied" browser keeps them plain, as Firefox's test prefs do, so its visitor can still
    "Type instead"."""
    without = {
        "denied": ("--use-fake-ui-for-media-stream",),
        "prompt": ("--use-fake-ui-for-media-stream",),
        "none": ("--use-fake-device-for-media-stream",),
    }
    extra = {"denied": ("--disable-features=WebRtcHideLocalIpsWithMdns",)}
    return lambda *, microphone: launch_chromium(without=without[microphone], extra=extra.get(microphone, ()))


class Widget:
    """Drives and observes one <hms-webcall> (its shadow DOM is open: Playwright's CSS locators pierce it)."""

    def __init__(self, page, selector: str = "hms-webcall#hero-call") -> None:
        self.page = page
        self.selector = selector
        self.host = page.locator(selector)

    def part(self, name: str):
        return self.host.locator(f'[part~="{name}"]')

    @property
    def state(self) -> str:
        return self.page.evaluate("(sel) => document.querySelector(sel).state", self.selector)

    def wait_state(self, *states: str, timeout: float = 20) -> str:
        self.page.wait_for_function(
            "([sel, states]) => states.includes(document.querySelector(sel).state)",
            arg=[self.selector, list(states)],
            timeout=timeout * 1000,
        )
        return self.state

    def poll_state(self, *states: str, timeout: float = 30) -> str:
        """wait_state on a page whose CSP forbids eval (the pop-out window's): Playwright's wait_for_function
        builds its predicate with eval there, so the test asks for the state itself."""
        # The window may still be loading when asked: no element yet is "not yet", not a failure.
        self.page.wait_for_load_state("domcontentloaded")

        def state() -> str | None:
            return self.page.evaluate("(sel) => document.querySelector(sel)?.state ?? null", self.selector)

        return wait_for(lambda: (s := state()) in states and s, timeout=timeout, what=f"state in {states}")

    def events(self, kind: str | None = None) -> list[dict]:
        events = self.page.evaluate("window.__hms")
        return [e["detail"] for e in events if kind is None or e["type"] == f"hms:{kind}"]

    def live_mic_tracks(self) -> int:
        """Microphone tracks handed to the page that are still capturing."""
        return self.page.evaluate(
            "window.__mics.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length"
        )

    def posted(self, path: str) -> list[dict]:
        """The JSON bodies the page POSTed to URLs ending in ``path``, in order."""
        posts = self.page.evaluate("window.__posts")
        return [json.loads(p["body"]) for p in posts if p["url"].split("?")[0].endswith(path)]

    def states(self) -> list[str]:
        return [d["state"] for d in self.events("state")]

    def transcript(self) -> list[dict]:
        return self.page.evaluate("(sel) => document.querySelector(sel).transcript", self.selector)

    def message(self) -> str:
        return self.part("message").inner_text()

    def screenshot(self, path: Path, margin: int = 24) -> None:
        """The widget and a margin around it (its shadow included), as a PNG artifact."""
        self.host.scroll_into_view_if_needed()
        box = self.host.bounding_box()
        clip = {
            "x": max(0, box["x"] - margin),
            "y": max(0, box["y"] - margin),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        self.page.screenshot(path=str(path), clip=clip)

    def set(self, **attributes: str) -> None:
        """Sets attributes on the element (``agent_timeout="3"`` -> agent-timeout="3")."""
        for name, value in attributes.items():
            self.host.evaluate("(el, [k, v]) => el.setAttribute(k, v)", [name.replace("_", "-"), value])

    def wait_text(self, part: str, pattern: str, timeout: float = 15) -> None:
        """Waits until the part's text matches the JS regular expression ``pattern``."""
        self.page.wait_for_function(
            "([sel, part, re]) => new RegExp(re).test("
            "document.querySelector(sel).shadowRoot.querySelector(`[part~=${part}]`).textContent)",
            arg=[self.selector, part, pattern],
            timeout=timeout * 1000,
        )


def open_widget(
    browser,
    url: str,
    *,
    permissions: list[str] | None = None,
    selector: str = "hms-webcall#hero-call",
    init_scripts: tuple[str, ...] = (),
):
    """A fresh context and page at ``url`` with the event recorder (and ``init_scripts``) installed; returns
    (context, Widget)."""
    if browser.browser_type.name == "firefox":
        # Firefox's microphone permission is set by its launch prefs: a context's permissions would leave
        # Firefox's own question open over WebDriver BiDi.
        permissions = None
    context = browser.new_context(permissions=permissions, viewport={"width": 1100, "height": 900})
    context.add_init_script(EVENT_RECORDER)
    context.add_init_script(MIC_RECORDER)
    context.add_init_script(POST_RECORDER)
    for script in init_scripts:
        context.add_init_script(script)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(
        "(sel) => customElements.get('hms-webcall') && document.querySelector(sel)", arg=selector
    )
    return context, Widget(page, selector)


def screenshot_path(artifacts_dir: Path, name: str, engine: str = "chromium") -> Path:
    """Where a screenshot goes: ``name.png`` from Chromium, ``name-firefox.png`` from Firefox."""
    return artifacts_dir / (f"{name}.png" if engine == "chromium" else f"{name}-{engine}.png")


def sign_in(session: requests.Session, app_url: str, name: str) -> None:
    """Signs ``session`` in on the example app (its form posts a CSRF token from the page)."""
    page = session.get(f"{app_url}/", timeout=10).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token, "the example app's page has no sign-in form"
    response = session.post(f"{app_url}/sign-in", data={"name": name, "csrf": token.group(1)}, timeout=10)
    response.raise_for_status()


def create_call(session: requests.Session, app_url: str) -> requests.Response:
    """POST {prefix}/web-calls as a non-browser client would (no Origin header)."""
    return session.post(
        f"{app_url}/hms/web-calls",
        data=json.dumps({}),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)
