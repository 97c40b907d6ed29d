"""A browser without WebRTC, for real: Debian's WebKitGTK is built without it. The visitor is told plainly
that this browser cannot make voice calls, and nothing is spent: no microphone prompt, no consent question
for a call that cannot happen, no call created (the sandbox, standing in for HMS, records none), so trying
again gets the same answer rather than ``too_many_calls``. All of it from the keyboard."""

from __future__ import annotations

import pytest

from tests.webkit.conftest import WEBKIT_MARKS, open_widget, press, tab_to, wait_for

pytestmark = WEBKIT_MARKS

MESSAGE = "This browser can't make voice calls. Please use an up-to-date Chrome, Edge, Firefox or Safari."


def test_no_webrtc_says_so_and_creates_no_call(launch_webkit, example_app_factory):
    app = example_app_factory(env={"FLASK_HMS_REQUIRE_CONSENT": "2"})
    driver = launch_webkit()
    widget = open_widget(driver, f"{app.url}/")
    if driver.execute_script("return typeof RTCPeerConnection") != "undefined":
        pytest.skip("this WebKitGTK has WebRTC compiled in: it is no browser without WebRTC")

    # The first call, from the keyboard.
    tab_to(widget)
    press(driver, "ENTER")
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["unsupported_browser"]
    assert widget.message() == MESSAGE
    assert widget.states() == ["preflight", "error"]
    assert driver.execute_script("return window.__mics") == 0, "no microphone prompt"
    assert not widget.visible("retry"), "trying again cannot help"
    # Focus stays in the widget, on the way out of the panel; Enter closes it, back to the launcher.
    assert widget.focused_part() == "close"
    press(driver, "ENTER")
    wait_for(lambda: widget.focused_part() == "launcher", what="focus back on the launcher")
    assert widget.state == "idle"

    # Again, on a page that asks for consent first: no consent question for a call that cannot happen.
    widget.set(consent="Calls are recorded.", consent_version="2")
    press(driver, "ENTER")
    widget.wait_state("error")
    assert not widget.visible("consent")
    assert [e["code"] for e in widget.events("error")] == ["unsupported_browser"] * 2
    assert widget.events("consent") == []
    assert driver.execute_script("return window.__mics") == 0

    assert app.sandbox_stats()["create_requests"] == 0
    assert app.sandbox_calls() == []
