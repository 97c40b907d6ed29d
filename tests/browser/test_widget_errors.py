"""The widget's failure states in Chromium (the microphone's in Firefox too): each with its own words, a way
forward, and nothing spent.

The microphone cases use real browser behaviour, not a patched getUserMedia: a browser that refuses the
microphone (Chromium without the auto-accept flag and a context without the permission; Firefox with
permissions.default.microphone=2), and one without the fake capture device on a machine without a
microphone (missing).
"""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import create_call, open_widget, screenshot_path, sign_in
from tests.conftest import require

pytestmark = pytest.mark.browser


# Where each browser shows a site's microphone permission (widget/src/strings.js words it per browser).
HOW_TO_ALLOW = {
    "chromium": "Click the icon left of the address bar, set Microphone to Allow, then try again.",
    "firefox": "Click the crossed-out microphone in the address bar, clear the block, then try again.",
}


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


@pytest.mark.engines("chromium", "firefox")
def test_microphone_denied_creates_no_call(launch_browser, engine, app, artifacts_dir):
    browser = launch_browser(microphone="denied")
    context, widget = open_widget(browser, f"{app.url}/", permissions=[])
    widget.part("launcher").click()
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["mic_denied"]
    message = widget.message()
    assert "Microphone access is blocked for this site." in message
    # How to fix it, in this browser's terms, and a retry.
    assert HOW_TO_ALLOW[engine] in message
    assert widget.part("retry").is_visible() and widget.part("retry").is_enabled()
    widget.screenshot(screenshot_path(artifacts_dir, "widget-mic-denied", engine))
    assert app.sandbox_stats()["create_requests"] == 0
    assert widget.states() == ["preflight", "error"]
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_no_microphone_creates_no_call(launch_browser, app):
    browser = launch_browser(microphone="none")
    context, widget = open_widget(browser, f"{app.url}/")
    has_input = widget.page.evaluate(
        "async () => (await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'audioinput')"
    )
    require(not has_input, "this machine has a real microphone, so 'no microphone' cannot be shown")
    # Keyboard only: Tab to the launcher (its focus also starts loading the call code), Enter to call.
    widget.page.keyboard.press("Tab")
    for _ in range(30):
        if widget.page.evaluate(
            "(sel) => document.activeElement === document.querySelector(sel)", widget.selector
        ):
            break
        widget.page.keyboard.press("Tab")
    widget.page.keyboard.press("Enter")
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["no_mic"]
    assert widget.message() == "No microphone found. Connect one, then try again."
    assert app.sandbox_stats()["create_requests"] == 0
    # Keyboard focus stays in the widget, on the way forward.
    assert (
        widget.page.evaluate(
            "(sel) => document.querySelector(sel).shadowRoot.activeElement?.getAttribute('part')",
            widget.selector,
        )
        == "retry"
    )
    context.close()


def test_rate_limited_shows_the_wait(chromium, example_app_factory, widget_built):
    app = example_app_factory(env={"HMS_RATE_LIMIT": "1 per minute"})
    # This visitor (anonymous: counted by IP address) already started a call this minute.
    assert create_call(requests.Session(), app.url).status_code == 201
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("error")
    [error] = widget.events("error")
    assert error["code"] == "rate_limited"
    assert 0 < error["retryAfter"] <= 60
    message = widget.message()
    assert message.startswith("You've started many calls in a short time. You can call again in ")
    assert message.rstrip(".").endswith(" s")
    retry = widget.part("retry")
    assert retry.is_disabled() and retry.inner_text().startswith("Try again in ")
    assert app.sandbox_stats()["create_requests"] == 1
    assert widget.live_mic_tracks() == 0, "the microphone is released when the call cannot start"
    context.close()


def test_busy_on_the_fourth_concurrent_call(chromium, app):
    # Three other people are on a call: the org's three concurrent slots are taken.
    for name in ("Ada", "Grace", "Linus"):
        session = requests.Session()
        sign_in(session, app.url, name)
        assert create_call(session, app.url).status_code == 201
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("error")
    [error] = widget.events("error")
    assert error["code"] == "busy"
    assert error["retryAfter"] and error["retryAfter"] > 0
    assert widget.message().startswith("All lines are busy right now. You can call again in ")
    assert app.sandbox_stats()["create_requests"] == 3
    context.close()
