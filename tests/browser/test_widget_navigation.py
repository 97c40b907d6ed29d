"""Leaving the page mid-call: the browser's own question first, a clean hang-up (user_hangup) when the
visitor leaves anyway, and the pop-out window that keeps the call going while the visitor browses."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Widget, open_widget, wait_for

pytestmark = pytest.mark.browser

POPOUT_EVENTS = "window.__pop = []; document.addEventListener('hms:popout', (e) => __pop.push(e.detail));"


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


def call_log(app, call_id: str) -> str:
    """The sandbox's log lines about one call: what a failure needs to say whether the leave came."""
    return "\n".join(line for line in app.output().splitlines() if call_id in line)


def ended_reason(app, call_id: str) -> str:
    # Longer than the sandbox's departure timeout (20 s): a leave that never came still ends the call, and
    # assert_hung_up_cleanly then says so with the call's log, rather than a bare timeout here.
    try:
        calls = wait_for(
            lambda: [c for c in app.sandbox_calls() if c["call_id"] == call_id and c["status"] == "ended"],
            timeout=30,
            what=f"the sandbox to end call {call_id}",
        )
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}; its log:\n{call_log(app, call_id)}") from None
    return calls[0]["ended_reason"]


def assert_hung_up_cleanly(app, call_id: str) -> None:
    """The browser said goodbye (livekit's leave request) before the page went: a hang-up HMS can tell
    from a connection that just dropped (the sandbox reports both as user_hangup, so its log tells)."""
    left = f"call {call_id}: the browser left" in app.output()
    assert left, f"call {call_id} ended without the browser's leave; its log:\n{call_log(app, call_id)}"


def visitor_heard(page, selector: str) -> None:
    """Waits until the call has heard the visitor: their microphone is published. A call is live as soon
    as the assistant is heard, maybe before that; the sandbox answers signalling one request at a time, so
    a leave sent while it still answers the microphone's offer (seconds on a busy machine) comes too late."""
    transcript = f"document.querySelector('{selector}').transcript"
    wait_for(
        lambda: any(e["role"] == "user" for e in page.evaluate(transcript)),
        timeout=25,
        what="the visitor to be heard",
    )


def start_call(widget: Widget) -> str:
    widget.part("launcher").click()
    widget.wait_state("live")
    visitor_heard(widget.page, widget.selector)
    return widget.page.evaluate("(sel) => document.querySelector(sel).callId", widget.selector)


def wait_for_dialog(page, dialogs: list[str]) -> None:
    for _ in range(50):  # Playwright hands events over while it waits (Firefox's question comes later)
        if dialogs:
            return
        page.wait_for_timeout(100)


@pytest.mark.engines("chromium", "firefox")
def test_leaving_asks_first_and_staying_keeps_the_call(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    start_call(widget)
    dialogs = []

    # The visitor clicks a link mid-call and answers "stay": the call goes on.
    page.once("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.locator('.nav a[href="/calls"]').click(no_wait_after=True)
    wait_for_dialog(page, dialogs)
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.url == f"{app.url}/"
    assert widget.state == "live"
    assert app.sandbox_calls()[-1]["status"] != "ended"
    context.close()


# What a page script can do between the visitor's "leave" and Firefox closing the call's connection: nothing.
AFTER_THE_QUESTION = (
    "Firefox closes the call's connection as soon as the next page is requested, after the visitor's "
    "answer and before pagehide: no page script runs in between, so the hang-up cannot be sent and the call "
    'ends at the server\'s departure timeout (with confirm-leave="false" it hangs up at beforeunload)'
)


@pytest.mark.engines("chromium", "firefox", skip={"firefox": AFTER_THE_QUESTION})
def test_leaving_after_the_question_hangs_up_cleanly(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    call_id = start_call(widget)
    dialogs = []

    # A link mid-call, and the visitor answers "leave": the page goes, and the call is hung up, not lost.
    page.once("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.locator('.nav a[href="/calls"]').click(no_wait_after=True)
    page.wait_for_url(f"{app.url}/calls")
    assert dialogs == ["beforeunload"]
    assert ended_reason(app, call_id) == "user_hangup"
    assert_hung_up_cleanly(app, call_id)

    # A reload mid-call asks too, and hangs up cleanly.
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.goto(f"{app.url}/")
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    call_id = start_call(widget)
    page.evaluate("() => { setTimeout(() => location.reload()); }")
    page.wait_for_function(
        "document.readyState === 'complete' && !document.querySelector('#hero-call').callId"
    )
    assert dialogs == ["beforeunload", "beforeunload"]
    assert ended_reason(app, call_id) == "user_hangup"
    assert_hung_up_cleanly(app, call_id)
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_confirm_leave_false_a_link_and_a_reload(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    widget.set(confirm_leave="false")
    call_id = start_call(widget)
    page.locator('.nav a[href="/calls"]').click()
    page.wait_for_url(f"{app.url}/calls")
    assert ended_reason(app, call_id) == "user_hangup"
    assert_hung_up_cleanly(app, call_id)

    page.goto(f"{app.url}/")
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    widget.set(confirm_leave="false")
    call_id = start_call(widget)
    page.evaluate("() => { setTimeout(() => location.reload()); }")
    page.wait_for_function(
        "document.readyState === 'complete' && !document.querySelector('#hero-call').callId"
    )
    assert ended_reason(app, call_id) == "user_hangup"
    assert_hung_up_cleanly(app, call_id)
    assert dialogs == []
    context.close()


def test_popout_window_survives_navigation_of_the_opener(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    context.add_init_script(POPOUT_EVENTS)
    page = widget.page
    page.evaluate(POPOUT_EVENTS)
    widget.set(popout="", lang="en", assistant_name="Ava")
    first_call = start_call(widget)

    # "Continue in a small window": the window opens on the extension's page, which the tab hands the same
    # attributes (not in the address), and starts its own call; the tab's call ends as a user hang-up.
    button = widget.part("popout")
    assert button.inner_text() == "Continue in a small window"
    with context.expect_page() as opened:
        button.click()
    popup = opened.value
    assert popup.url == f"{app.url}/hms/call"
    windowed = Widget(popup, "hms-webcall")
    windowed.poll_state("live")
    assert windowed.part("title").inner_text() == "Ava" and popup.title() == "Ava"
    assert popup.locator("#hms-webcall-popout-notice").count() == 0
    second_call = windowed.page.evaluate("document.querySelector('hms-webcall').callId")
    assert second_call and second_call != first_call
    assert ended_reason(app, first_call) == "user_hangup"

    notice = widget.part("popout-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text().startswith("The call continues in the other window.")
    assert widget.state == "idle"
    assert page.evaluate("window.__pop")[0]["state"] == "opened"

    # The opener browses on: no leave question (no call here), and the window's call goes on.
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.locator('.nav a[href="/calls"]').click()
    page.wait_for_url(f"{app.url}/calls")
    page.goto(f"{app.url}/")
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    assert dialogs == []
    popup.wait_for_timeout(1000)
    assert windowed.state == "live"
    assert [c["status"] for c in app.sandbox_calls() if c["call_id"] == second_call] == ["in-progress"]

    # The new page's widget learns from the window that the call is there, and can bring it forward.
    widget.set(popout="")
    notice.wait_for(state="visible")
    pages = len(context.pages)
    widget.part("popout-focus").click()
    page.wait_for_timeout(300)
    assert len(context.pages) == pages, "bringing the window forward opens no other window"

    # The call ends in the window: the tab's widget is back to its launcher.
    windowed.part("hangup").click()
    windowed.poll_state("ended")
    widget.part("launcher").wait_for(state="visible")
    assert not notice.is_visible()
    assert page.evaluate("window.__pop")[-1] == {"state": "ended", "callId": second_call}
    assert ended_reason(app, second_call) == "user_hangup"
    context.close()


def test_popout_window_closed_by_the_visitor(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    widget.set(popout="")
    start_call(widget)
    with context.expect_page() as opened:
        widget.part("popout").click()
    popup = opened.value
    Widget(popup, "hms-webcall").poll_state("live")
    second_call = popup.evaluate("document.querySelector('hms-webcall').callId")
    widget.part("popout-notice").wait_for(state="visible")
    visitor_heard(popup, "hms-webcall")
    popup.close(run_before_unload=False)
    widget.part("launcher").wait_for(state="visible", timeout=10_000)
    assert ended_reason(app, second_call) == "user_hangup"
    assert page.url == f"{app.url}/"
    context.close()
