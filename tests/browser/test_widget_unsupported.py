"""A browser without WebRTC (a build without it, a privacy extension that removes it) is told so at once:
no microphone prompt, no consent question for a call it cannot make, and no call created on the server.

Chromium and Firefox have WebRTC, so an init script removes it from the page before any script runs. The
same case in an engine that really lacks it (Debian's WebKitGTK) is in tests/webkit/test_unsupported.py.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import EVENT_RECORDER, MIC_RECORDER, Widget

pytestmark = pytest.mark.browser

NO_WEBRTC = "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;"
MESSAGE = "This browser can't make voice calls. Please use an up-to-date Chrome, Edge, Firefox or Safari."


@pytest.mark.engines("chromium", "firefox")
def test_a_browser_without_webrtc_spends_nothing(browser, example_app_factory, widget_built):
    app = example_app_factory(env={"FLASK_HMS_REQUIRE_CONSENT": "2"})
    context = browser.new_context()
    for script in (EVENT_RECORDER, MIC_RECORDER, NO_WEBRTC):
        context.add_init_script(script)
    page = context.new_page()
    page.goto(f"{app.url}/")
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    widget = Widget(page)
    assert page.evaluate("typeof RTCPeerConnection") == "undefined"

    # The first click comes before the call code is here: the loader, which otherwise asks for the
    # microphone inside the click, must not either.
    held = []
    page.route("**/hms/static/call-*.js", lambda route: held.append(route))
    widget.part("launcher").click()
    while not held:  # route handlers run while Playwright waits, not during time.sleep
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)  # room for a microphone request that must not come
    assert page.evaluate("window.__mics.length") == 0
    held[0].continue_()

    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["unsupported_browser"]
    assert widget.message() == MESSAGE
    assert not widget.part("retry").is_visible(), "trying again cannot help"
    assert page.evaluate("window.__mics.length") == 0

    # Closed and tried again on a page that asks for consent first: no consent asked for a call this
    # browser cannot make, the same answer (never too_many_calls), and still nothing on the server.
    widget.part("close").click()
    widget.set(consent="Calls are recorded.", consent_version="2")
    widget.part("launcher").click()
    widget.wait_state("error")
    assert not widget.part("consent").is_visible()
    assert [e["code"] for e in widget.events("error")] == ["unsupported_browser"] * 2
    assert app.sandbox_stats()["create_requests"] == 0
    assert app.sandbox_calls() == []
    context.close()
