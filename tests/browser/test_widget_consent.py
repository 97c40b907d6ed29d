"""Consent before the first call: the visitor agrees to the site's text before the microphone is asked for,
once per version, and the server refuses a create without the version it requires."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import Widget, open_widget, wait_for

pytestmark = pytest.mark.browser

TEXT = "Calls are recorded and transcribed to help us improve."
CONSENT_EVENTS = (
    "window.__consent = []; document.addEventListener('hms:consent', (e) => __consent.push(e.detail));"
)


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory(env={"FLASK_HMS_REQUIRE_CONSENT": "2"})


def open_with_consent(browser, url: str, **attributes: str):
    context, widget = open_widget(browser, url)
    context.add_init_script(CONSENT_EVENTS)
    widget.page.evaluate(CONSENT_EVENTS)
    widget.set(consent=TEXT, consent_version="2", **attributes)
    return context, widget


@pytest.mark.engines("chromium", "firefox")
def test_consent_before_the_microphone_then_remembered(browser, app):
    context, widget = open_with_consent(browser, f"{app.url}/")
    page = widget.page

    widget.part("launcher").click()
    consent = widget.part("consent")
    consent.wait_for(state="visible")
    assert widget.part("consent-text").inner_text() == TEXT
    page.wait_for_timeout(300)  # room for a microphone request that must not come
    assert page.evaluate("window.__mics.length") == 0, "the microphone is asked for only after consent"
    assert widget.state == "idle"
    assert app.sandbox_stats()["create_requests"] == 0
    start = widget.part("consent-start")
    assert start.is_disabled()
    # The checkbox has focus: the keyboard alone gets through.
    assert widget.part("consent-check").evaluate("(el) => el.getRootNode().activeElement === el")
    page.keyboard.press("Space")
    assert start.is_enabled()
    start.click()

    widget.wait_state("live")
    assert widget.posted("/hms/web-calls") == [{"consent": "2"}]
    assert page.evaluate("window.__consent") == [{"version": "2", "accepted": True}]
    assert page.evaluate("localStorage.getItem('hms-webcall:consent')") == "2"
    first = widget.page.evaluate("document.querySelector('#hero-call').callId")
    widget.part("hangup").click()
    widget.wait_state("ended")
    # The visitor's slot is free once the app hears the call ended (a hang-up the moment the call is live
    # may take the sandbox a moment): the next call starts after that.
    wait_for(
        lambda: any(
            d["call_id"] == first and "end" in d["event"] and d["delivered"]
            for d in app.sandbox_control("GET", "/_sandbox/webhooks").json()
        ),
        timeout=25,
        what="the app to hear the first call ended",
    )

    # Another page of the same site, later: agreed already, so the click goes straight to the call.
    page.reload()
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    page.evaluate(CONSENT_EVENTS)
    widget.set(consent=TEXT, consent_version="2")
    widget.part("launcher").click()
    widget.wait_state("live")
    assert widget.part("consent").count() == 0 or not widget.part("consent").is_visible()
    assert page.evaluate("window.__consent") == []
    widget.part("hangup").click()
    widget.wait_state("ended")

    # A new version of the text is asked for again.
    widget.set(consent_version="3")
    widget.part("retry").click()
    widget.part("consent").wait_for(state="visible")
    assert widget.state == "ended"
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_cancel_and_a_template_with_a_link(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    page.evaluate(CONSENT_EVENTS)
    page.evaluate(
        """() => {
          const t = document.createElement('template');
          t.setAttribute('slot', 'consent');
          t.innerHTML = 'Calls are recorded. <a href="/privacy" id="privacy">Privacy notice</a>';
          document.querySelector('#hero-call').append(t);
        }"""
    )
    widget.set(consent_version="2")
    # The first click comes before the call code is here: the loader, which otherwise asks for the
    # microphone at once (inside the click), must not either.
    held = []
    page.route("**/hms/static/call-*.js", lambda route: held.append(route))
    widget.part("launcher").click()
    while not held:
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__mics.length") == 0
    held[0].continue_()
    link = widget.part("consent-text").locator("a")
    link.wait_for(state="visible")
    assert link.inner_text() == "Privacy notice" and link.get_attribute("href") == "/privacy"
    assert page.evaluate("window.__mics.length") == 0

    widget.part("consent-cancel").click()
    widget.part("launcher").wait_for(state="visible")
    assert page.evaluate("window.__consent") == [{"version": "2", "accepted": False}]
    assert page.evaluate("localStorage.getItem('hms-webcall:consent')") is None
    assert page.evaluate("window.__mics.length") == 0
    assert app.sandbox_stats()["create_requests"] == 0
    context.close()


def test_server_refuses_a_create_without_the_required_version(chromium, app):
    # A script that skips the widget cannot skip the consent.
    session = requests.Session()
    for body in ({}, {"consent": "1"}):
        response = session.post(f"{app.url}/hms/web-calls", json=body, timeout=10)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "consent_required"
    assert app.sandbox_stats()["create_requests"] == 0

    # A widget without the consent attribute on such a site shows why the call did not start.
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("error")
    assert widget.events("error")[-1]["code"] == "consent_required"
    assert widget.message().startswith("This site asks for your consent")
    wait_for(lambda: widget.live_mic_tracks() == 0, timeout=5, what="the microphone to be released")
    context.close()


def test_consent_is_not_asked_without_a_text(chromium, example_app_factory, widget_built):
    app = example_app_factory()
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("live")
    assert not widget.part("consent").is_visible()
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


def test_consent_strings_in_dutch(chromium, app):
    context, widget = open_with_consent(chromium, f"{app.url}/", lang="nl")
    widget.part("launcher").click()
    widget.part("consent").wait_for(state="visible")
    assert widget.part("consent-start").inner_text() == "Gesprek starten"
    assert widget.part("consent").inner_text().count("Ik heb dit gelezen en ga akkoord") == 1
    assert isinstance(widget, Widget)
    context.close()
