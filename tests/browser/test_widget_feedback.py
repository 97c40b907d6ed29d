"""Feedback after the call: the visitor rates the ended call in the widget, the site's handler gets it (the
example app shows it on its Calls page), and nobody else, nor a second time, can rate that call."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import Widget, open_widget, sign_in, wait_for

pytestmark = pytest.mark.browser

TOKEN_HEADER = "X-HMS-Feedback-Token"
FEEDBACK_EVENTS = "window.__fb = []; document.addEventListener('hms:feedback', (e) => __fb.push(e.detail));"


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


def call_and_hang_up(widget: Widget) -> tuple[str, str | None]:
    """One whole call; returns its id and the feedback token of its create response (anonymous callers)."""
    created: list[dict] = []
    widget.page.on(
        "response",
        lambda r: (
            created.append(r.json()) if r.request.method == "POST" and r.url.endswith("/web-calls") else None
        ),
    )
    widget.page.evaluate(FEEDBACK_EVENTS)
    widget.part("launcher").click() if widget.part("launcher").is_visible() else widget.part("retry").click()
    widget.wait_state("live")
    widget.part("hangup").click()
    widget.wait_state("ended")
    wait_for(lambda: created, timeout=5, what="the create response")
    return created[-1]["call_id"], created[-1].get("feedback_token")


def post_feedback(app_url: str, call_id: str, token: str | None, session=None) -> requests.Response:
    headers = {TOKEN_HEADER: token} if token else {}
    return (session or requests).post(
        f"{app_url}/hms/web-calls/{call_id}/feedback", json={"rating": "down"}, headers=headers, timeout=10
    )


def test_visitor_rates_the_call_and_the_site_gets_it(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    call_id, token = call_and_hang_up(widget)
    assert token, "an anonymous caller gets a feedback token"

    form = widget.part("feedback")
    assert form.is_visible()
    send = widget.part("feedback-send")
    assert send.is_disabled(), "nothing to send before a rating"
    up = widget.part("feedback-up")
    assert up.get_attribute("aria-label") == "Yes, it helped"
    up.click()
    assert up.get_attribute("aria-pressed") == "true"
    assert widget.part("feedback-comment").get_attribute("maxlength") == "500"
    widget.part("feedback-comment").fill("Quick and clear answers.")
    send.click()

    widget.wait_text("feedback-result", "^Thank you for your feedback!$")
    assert not form.is_visible()
    assert page.evaluate("window.__fb") == [
        {"callId": call_id, "rating": "up", "comment": "Quick and clear answers.", "result": "sent"}
    ]

    # Another visitor (no token, or someone else's) is refused; so is the visitor a second time.
    assert post_feedback(app.url, call_id, None).status_code == 403
    assert post_feedback(app.url, call_id, "not-the-token").json()["error"]["code"] == "forbidden"
    second = post_feedback(app.url, call_id, token)
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_rated"

    # The example app's handler stored it: the Calls page shows the rating and the comment.
    def shown():
        page.goto(f"{app.url}/calls")
        row = page.locator(f'li.call[data-call-id="{call_id}"]')
        return row.count() and "Quick and clear answers." in row.inner_text()

    wait_for(shown, timeout=15, what="the feedback on the Calls page")
    context.close()


def test_refusals_are_shown_politely(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page

    # Rated already (here from another tab with the same token): the widget says so, without an error.
    call_id, token = call_and_hang_up(widget)
    assert post_feedback(app.url, call_id, token).status_code == 204
    widget.part("feedback-down").click()
    widget.part("feedback-send").click()
    widget.wait_text("feedback-result", "^You already rated this call. Thank you!$")
    assert page.evaluate("window.__fb")[-1]["result"] == "already_rated"

    # Not this visitor's call (the token lost on the way): refused, and said so.
    call_id, token = call_and_hang_up(widget)
    page.route(
        f"**/web-calls/{call_id}/feedback",
        lambda route: route.continue_(
            headers={k: v for k, v in route.request.headers.items() if k.lower() != TOKEN_HEADER.lower()}
        ),
    )
    widget.part("feedback-up").click()
    widget.part("feedback-send").click()
    widget.wait_text("feedback-result", "^Feedback can't be given for this call.$")
    assert page.evaluate("window.__fb")[-1]["result"] == "forbidden"

    # Skipping: no request, the form goes away, an event says so.
    call_id, _ = call_and_hang_up(widget)
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(r.url) if "/feedback" in r.url else None)
    widget.part("feedback-skip").click()
    assert not widget.part("feedback").is_visible()
    assert not widget.part("feedback-result").is_visible()
    assert page.evaluate("window.__fb")[-1] == {
        "callId": call_id,
        "rating": None,
        "comment": "",
        "result": "skipped",
    }
    page.wait_for_timeout(200)
    assert requests_seen == []
    context.close()


def test_signed_in_visitor_needs_no_token(chromium, app):
    session = requests.Session()
    sign_in(session, app.url, "Ada")
    context, widget = open_widget(chromium, f"{app.url}/")
    context.add_cookies([{"name": c.name, "value": c.value, "url": app.url} for c in session.cookies])
    widget.page.reload()
    widget.page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    call_id, token = call_and_hang_up(widget)
    assert token is None
    widget.part("feedback-up").click()
    widget.part("feedback-send").click()
    widget.wait_text("feedback-result", "^Thank you for your feedback!$")
    # Someone else, signed in or not, cannot rate Ada's call.
    other = requests.Session()
    sign_in(other, app.url, "Eve")
    assert post_feedback(app.url, call_id, None, session=other).status_code == 403
    context.close()
