"""A network drop is not a lost call: the widget in Chromium, taken offline mid-call, against the sandbox.

The page goes offline through DevTools' network emulation (Playwright's ``set_offline``). What that does in
this Chromium, found out first: new connections fail at once (ERR_INTERNET_DISCONNECTED); the open
signalling websocket is not closed but goes silent, so livekit-client notices only when its pings go
unanswered (15 s); the loopback WebRTC connection is not touched. The browser's ``offline``/``online``
events do not fire: in the tests' loopback-only network namespace Chromium believes it is offline from the
start (``navigator.onLine`` is false throughout), so the emulation changes nothing it would report. On a
machine with a network the browser fires them when the network goes and comes back, and both the widget
and livekit-client act on them; :func:`network` fires them as that browser would, alongside the emulation.

So the widget shows "reconnecting" from ``offline``; on ``online`` livekit-client checks the server
(``HEAD /``) and reconnects at once: its resume is answered with a ``leave`` (the sandbox cannot restart
ICE) and it joins again with the same token, which the sandbox's room accepts within its departure
timeout. In a long outage the widget gives up first; the sandbox ends the call once the browser's
connection is gone and its departure timeout has passed, and the report frees the slot.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import open_widget, turns, wait_for

pytestmark = pytest.mark.browser


def record_reconnects(widget) -> None:
    """hms:reconnecting / hms:reconnected join the page's event record (conftest's EVENT_RECORDER)."""
    widget.page.evaluate(
        """() => ['hms:reconnecting', 'hms:reconnected'].forEach((type) =>
             document.addEventListener(type, (e) => window.__hms.push({ type, detail: e.detail })))"""
    )


def network(context, page, *, online: bool) -> None:
    """Take the page offline (or back) with DevTools' emulation, and fire the browser's own event for it."""
    context.set_offline(not online)
    page.evaluate("(online) => dispatchEvent(new Event(online ? 'online' : 'offline'))", online)


def finals(widget, role: str) -> list[str]:
    return [e["text"] for e in widget.transcript() if e["final"] and e["role"] == role]


def joins(app, call_id: str) -> list[str]:
    """The sandbox's log lines for the visitor joining the call's room (the first join and every rejoin)."""
    return re.findall(rf"call {call_id}: \S+ joined room", app.output())


def deliveries(app, call_id: str, event: str) -> list[dict]:
    records = app.sandbox_control("GET", "/_sandbox/webhooks").json()
    return [r for r in records if r["call_id"] == call_id and r["event"] == event]


@pytest.mark.engines("chromium", "firefox")
def test_a_short_blink_resumes_the_same_call(browser, engine, example_app_factory, widget_built):
    app = example_app_factory()
    context, widget = open_widget(browser, f"{app.url}/", init_scripts=turns(engine))
    record_reconnects(widget)
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    wait_for(lambda: finals(widget, "assistant"), timeout=20, what="the assistant's greeting")
    call_id = widget.host.evaluate("(el) => el.callId")
    before = widget.transcript()

    network(context, widget.page, online=False)
    widget.wait_state("reconnecting", timeout=5)
    widget.wait_text("status", "reconnecting")
    assert widget.part("status").get_attribute("role") == "status"  # announced politely
    assert widget.part("timer").is_visible()  # the call's clock goes on
    widget.page.wait_for_timeout(2000)  # the blink
    network(context, widget.page, online=True)
    widget.wait_state("live", timeout=20)

    page_events = [e["type"] for e in widget.page.evaluate("window.__hms")]
    assert "hms:ended" not in page_events
    assert [t for t in page_events if t in ("hms:reconnecting", "hms:reconnected")] == [
        "hms:reconnecting",
        "hms:reconnected",
    ]
    assert {e["detail"]["callId"] for e in widget.page.evaluate("window.__hms") if "reconn" in e["type"]} == {
        call_id
    }
    assert widget.states()[-2:] == ["reconnecting", "live"]
    # hms:state's reconnecting flag says exactly whether the state is reconnecting.
    assert [(d["state"], d["reconnecting"]) for d in widget.events("state")][-2:] == [
        ("reconnecting", True),
        ("live", False),
    ]
    assert all(d["reconnecting"] is (d["state"] == "reconnecting") for d in widget.events("state"))
    # The same call, its transcript kept.
    assert widget.host.evaluate("(el) => el.callId") == call_id
    # Every line shown before the blink is still there; the final ones unchanged (a line the visitor was
    # still speaking may since have been completed).
    kept = widget.transcript()
    assert [e["id"] for e in kept[: len(before)]] == [e["id"] for e in before], (before, kept)
    final_ids = {e["id"] for e in before if e["final"]}
    assert [e for e in kept if e["id"] in final_ids] == [e for e in before if e["final"]], (before, kept)
    (call,) = [c for c in app.sandbox_calls() if c["call_id"] == call_id]
    assert call["status"] == "in-progress"
    # livekit-client joined the room again (the sandbox's record: Firefox's driver reports no websockets).
    assert len(joins(app, call_id)) > 1, "livekit-client should have joined the room again"

    # The assistant is still there: it hears the visitor (the fake microphone's beeps) and answers.
    answered = len(finals(widget, "assistant"))
    wait_for(
        lambda: len(finals(widget, "assistant")) > answered, timeout=30, what="an answer after the blink"
    )
    # ... and is heard: its audio arrives on the new connection.
    assert widget.page.evaluate(
        """(sel) => [...document.querySelector(sel).shadowRoot.querySelectorAll('audio')]
                   .some((a) => !a.paused && a.srcObject && a.srcObject.getAudioTracks().some(
                     (t) => t.readyState === 'live'))""",
        widget.selector,
    )
    widget.part("hangup").click()
    widget.wait_state("ended")
    wait_for(
        lambda: deliveries(app, call_id, "end-of-call-report"), timeout=15, what="the end-of-call report"
    )
    assert len(deliveries(app, call_id, "end-of-call-report")) == 1
    assert [c["ended_reason"] for c in app.sandbox_calls() if c["call_id"] == call_id] == ["user_hangup"]
    context.close()


def test_a_long_outage_ends_the_call_cleanly_and_frees_the_slot(chromium, example_app_factory, widget_built):
    app = example_app_factory(sandbox_args=["--departure-timeout", "3"])
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.set(reconnect_timeout="4")
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    wait_for(lambda: finals(widget, "assistant"), timeout=20, what="the assistant's greeting")
    call_id = widget.host.evaluate("(el) => el.callId")

    network(context, widget.page, online=False)
    widget.wait_state("reconnecting", timeout=5)
    widget.wait_state("ended", timeout=15)
    assert [e["reason"] for e in widget.events("ended")] == ["connection_lost"]
    assert widget.message() == (
        "The connection was lost and didn't come back, so the call ended. "
        "Check your network, then call again."
    )
    wait_for(lambda: widget.live_mic_tracks() == 0, timeout=5, what="the microphone to be released")
    assert widget.part("entry-assistant").count() >= 1  # what was said stays readable

    # The network comes back later. The sandbox ends the call (the widget left the room), reports it,
    # and the extension frees the visitor's slot: a new call can start.
    network(context, widget.page, online=True)
    wait_for(
        lambda: [d for d in deliveries(app, call_id, "end-of-call-report") if d["delivered"]],
        timeout=45,
        what="the end-of-call report",
    )
    (call,) = [c for c in app.sandbox_calls() if c["call_id"] == call_id]
    assert call["ended_reason"] == "user_hangup"
    widget.part("retry").click()
    widget.wait_state("live", "error", timeout=20)
    assert widget.state == "live", widget.events("error")
    assert widget.host.evaluate("(el) => el.callId") != call_id
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()
