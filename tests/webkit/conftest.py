"""The widget in a WebKit engine: Debian's WebKitGTK (its MiniBrowser, driven through WebKitWebDriver by
Selenium), on a private X display (Xvfb). Nothing is downloaded: Selenium is given the driver's path.

Debian's WebKitGTK is built without WebRTC (``typeof RTCPeerConnection === "undefined"``), so no call can
connect here: these tests cover everything short of the media connection, and the widget's answer to a
browser without WebRTC. Where a test needs the widget to go past that check (to reach the microphone, the
consent or the create request), PRETEND_WEBRTC puts a stand-in RTCPeerConnection on the page, and the
create request is answered or held in the page (HOLD_CREATE, ANSWER_CREATE) so the stand-in is never used.

WebDriver has no init scripts in WebKitGTK: the recorders are installed once the page has loaded, before
the test touches the widget (which does nothing on its own before a click).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import widget_built
from tests.conftest import free_port, require

__all__ = ["widget_built"]  # the built widget (tests/browser/conftest.py), a fixture here too

MINIBROWSER = next(
    iter(
        sorted(glob.glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser"))
        + sorted(glob.glob("/usr/libexec/webkit2gtk-4.1/MiniBrowser"))
    ),
    None,
)
WEBKIT_DRIVER = shutil.which("WebKitWebDriver")
XVFB = shutil.which("Xvfb")
# Each test module's pytestmark. Selenium 4.51's WebKitGTK driver sets its server address the way its own
# RemoteConnection deprecates: the warning is Selenium's, not this project's.
WEBKIT_MARKS = [
    pytest.mark.browser,
    pytest.mark.webkit,
    pytest.mark.engine("webkit"),  # counted in the run's "browser tests per engine" lines
    pytest.mark.filterwarnings("ignore:setting remote_server_addr in RemoteConnection:DeprecationWarning"),
]
# --automation: naming the browser's binary means passing it ourselves (WebKitWebDriver would otherwise).
MINIBROWSER_ARGS = ["--automation", "--enable-media-stream=true"]
MOCK_MICROPHONE = "--enable-mock-capture-devices=true"  # "Mock audio device 1", granted without a prompt

# Every widget event on the page, in order.
EVENT_RECORDER = """
window.__hms = [];
for (const type of ['hms:state', 'hms:error', 'hms:consent', 'hms:ended']) {
  document.addEventListener(type, (e) => window.__hms.push({ type, detail: e.detail }));
}
// Counted on the prototype: WebKit may collect navigator.mediaDevices' wrapper, with a property set on it,
// and make a new one (a patch on the instance was seen to vanish between two clicks).
window.__mics = 0;
const getUserMedia = MediaDevices.prototype.getUserMedia;
MediaDevices.prototype.getUserMedia = function (...args) {
  window.__mics++;
  return getUserMedia.apply(this, args);
};
"""
# A stand-in for the RTCPeerConnection Debian's build lacks, for tests of what comes before the connection.
PRETEND_WEBRTC = "window.RTCPeerConnection = class RTCPeerConnection { addTrack() {} };"
# The create request, recorded and never answered: the widget waits in "requesting" (a real create would
# be answered, and the call could not connect here).
HOLD_CREATE = """
window.__creates = [];
const fetchOriginal = window.fetch;
window.fetch = function (url, init) {
  if (init && init.method === 'POST' && String(url).endsWith('/hms/web-calls')) {
    window.__creates.push(JSON.parse(init.body || '{}'));
    return new Promise(() => {});
  }
  return fetchOriginal.apply(this, arguments);
};
"""
# The create request answered "busy, try again in 2 minutes" (the error with the longest message).
ANSWER_BUSY = """
window.fetch = function (url, init) {
  const body = JSON.stringify({ error: { code: 'busy', message: 'busy' } });
  const headers = { 'Content-Type': 'application/json', 'Retry-After': '120' };
  return Promise.resolve(new Response(body, { status: 503, headers }));
};
"""


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A private X display (Xvfb on the first free display number, which it picks itself)."""
    require(XVFB is not None, "Xvfb is not installed (apt-get install xvfb): WebKitGTK needs a display")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [str(XVFB), "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # written once the display accepts clients
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def launch_webkit(xvfb_display: str, widget_built: Path) -> Iterator[Callable[..., Any]]:
    """``launch(mock_microphone=True)``: a MiniBrowser under WebKitWebDriver (closed at teardown)."""
    require(
        WEBKIT_DRIVER is not None and MINIBROWSER is not None,
        "WebKitGTK's WebKitWebDriver and MiniBrowser are not installed (apt-get install webkit2gtk-driver)",
    )
    try:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service
    except ImportError:
        require(False, "selenium is not installed (pip install -e .[dev])")

    drivers = []

    def launch(*, mock_microphone: bool = True):
        options = Options()
        options.binary_location = str(MINIBROWSER)
        for arg in MINIBROWSER_ARGS + ([MOCK_MICROPHONE] if mock_microphone else []):
            options.add_argument(arg)
        # free_port(): this xdist worker's share of the ports (WebKitWebDriver listens on 127.0.0.1).
        service = Service(
            executable_path=str(WEBKIT_DRIVER),
            port=free_port(),
            env={**os.environ, "DISPLAY": xvfb_display},
        )
        driver = webdriver.WebKitGTK(options=options, service=service)
        drivers.append(driver)
        driver.set_script_timeout(20)
        return driver

    yield launch
    for driver in drivers:
        driver.quit()


def wait_for(predicate: Callable[[], Any], *, timeout: float = 15, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class WebKitWidget:
    """Drives and observes one <hms-webcall> in a Selenium-driven page (its shadow root is open)."""

    def __init__(self, driver, selector: str = "hms-webcall#hero-call") -> None:
        self.driver = driver
        self.selector = selector

    def js(self, script: str, *args: Any) -> Any:
        """Runs ``script`` with ``el`` (the element) and ``root`` (its shadow root) in scope."""
        return self.driver.execute_script(
            "const el = document.querySelector(arguments[0]); const root = el && el.shadowRoot;\n" + script,
            self.selector,
            *args,
        )

    def part(self, name: str):
        return self.js("return root.querySelector(`[part~=${arguments[1]}]`);", name)

    def visible(self, name: str) -> bool:
        return bool(
            self.js(
                "const p = root.querySelector(`[part~=${arguments[1]}]`);"
                "return !!p && !p.closest('[hidden]') && p.getClientRects().length > 0;",
                name,
            )
        )

    def click(self, name: str) -> None:
        """A real click (WebDriver's, a trusted event: it counts as the visitor's gesture)."""
        self.part(name).click()

    @property
    def state(self) -> str:
        return self.js("return el.state;")

    def wait_state(self, *states: str, timeout: float = 15) -> str:
        return wait_for(lambda: (s := self.state) in states and s, timeout=timeout, what=f"state in {states}")

    def events(self, kind: str | None = None) -> list[dict]:
        events = self.driver.execute_script("return window.__hms;")
        return [e["detail"] for e in events if kind is None or e["type"] == f"hms:{kind}"]

    def states(self) -> list[str]:
        return [d["state"] for d in self.events("state")]

    def message(self) -> str:
        return self.js("return root.querySelector('[part~=message]').innerText.trim();")

    def set(self, **attributes: str) -> None:
        """Sets attributes on the element (``consent_version="2"`` -> consent-version="2")."""
        for name, value in attributes.items():
            self.js("el.setAttribute(arguments[1], arguments[2]);", name.replace("_", "-"), value)

    def screenshot(self, path: Path) -> None:
        """The browser's viewport as a PNG artifact: WebKitGTK under Xvfb paints element screenshots black
        (the whole viewport comes out right; on a phone screen or in a column the widget is most of it).
        Two animation frames first: a screenshot taken at once may show the page as it was painted last."""
        self.driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]));")
        self.driver.save_screenshot(str(path))

    def focused_part(self) -> str | None:
        """The part that has keyboard focus inside the widget, if any."""
        return self.js(
            "return document.activeElement === el ? root.activeElement?.getAttribute('part') ?? null : null;"
        )


def press(driver, *keys: str) -> None:
    """Presses keys by their Selenium name ("TAB", "ENTER", "SPACE"), one after the other."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for key in keys:
        ActionChains(driver).send_keys(getattr(Keys, key)).perform()


def tab_to(widget: WebKitWidget, part: str = "launcher") -> None:
    """Tab until ``part`` of the widget has keyboard focus."""
    for _ in range(30):
        press(widget.driver, "TAB")
        if widget.focused_part() == part:
            return
    raise AssertionError(f"Tab never reached the widget's {part}")


def open_widget(driver, url: str, *scripts: str, selector: str = "hms-webcall#hero-call") -> WebKitWidget:
    """``url`` loaded, then as ``widget_in_page``."""
    driver.get(url)
    return widget_in_page(driver, *scripts, selector=selector)


def widget_in_page(driver, *scripts: str, selector: str = "hms-webcall#hero-call") -> WebKitWidget:
    """The widget of the current page (or frame) once defined, with EVENT_RECORDER and ``scripts`` run."""
    wait_for(
        lambda: driver.execute_script(
            "return !!customElements.get('hms-webcall')"
            " && !!document.querySelector(arguments[0])?.shadowRoot;",
            selector,
        ),
        what="the widget",
    )
    for script in (EVENT_RECORDER, *scripts):
        driver.execute_script(script)
    return WebKitWidget(driver, selector)
