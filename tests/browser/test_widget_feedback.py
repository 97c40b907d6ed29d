"""Feedback after the call: a thumb in the widget is the rating, sent at once; a comment may follow. The
site's handler gets each (the example app's Calls page shows them as they come), and nobody else, nor a
second time, can rate that call."""

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


def post_feedback(
    app_url: str, call_id: str, token: str | None, session=None, comment: str | None = None
) -> requests.Response:
    headers = {TOKEN_HEADER: token} if token else {}
    body = {"rating": "down", **({"comment": comment} if comment else {})}
    return (session or requests).post(
        f"{app_url}/hms/web-calls/{call_id}/feedback", json=body, headers=headers, timeout=10
    )


# The Calls page polls its list every few seconds; this keeps it from doing so, so what it shows can only have
# come from its reaction to the rating (hms:feedback in this tab, or a message from another tab).
NO_POLLING = """
const setIntervalOfPage = window.setInterval;
window.setInterval = function (fn, ...rest) {
  return String(fn).includes('calls-list') ? 0 : setIntervalOfPage.call(this, fn, ...rest);
};
"""


def shown_rating(page, call_id: str) -> str:
    """The feedback line of ``call_id`` on the Calls page open in ``page`` ("" while there is none)."""
    row = page.locator(f'li.call[data-call-id="{call_id}"] p.feedback')
    return row.inner_text() if row.count() else ""


def test_a_thumb_is_the_rating_and_the_calls_page_shows_it(chromium, app):
    """On the Calls page (the floating launcher): the thumb alone is sent and shown; the panel closed."""
    context, widget = open_widget(chromium, f"{app.url}/calls", selector="hms-webcall[floating]")
    page = widget.page
    page.add_init_script(NO_POLLING)
    page.reload()
    page.wait_for_function("document.querySelector('hms-webcall[floating]')?.shadowRoot")
    call_id, token = call_and_hang_up(widget)
    assert token, "an anonymous caller gets a feedback token"

    form = widget.part("feedback")
    assert form.is_visible()
    assert not widget.part("feedback-send").is_visible(), "nothing to send before a rating"
    up = widget.part("feedback-up")
    assert up.get_attribute("aria-label") == "Yes, it helped"
    up.click()
    page.wait_for_function("window.__fb.length === 1")
    assert page.evaluate("window.__fb") == [
        {"callId": call_id, "rating": "up", "comment": "", "result": "sent"}
    ]
    assert up.get_attribute("aria-pressed") == "true"
    widget.part("close").click()  # the visitor is done: the rating stands

    wait_for(
        lambda: "Helpful" in shown_rating(page, call_id), timeout=10, what="the rating on the Calls page"
    )
    # The rating is spent: a second one is refused, also from the visitor.
    second = post_feedback(app.url, call_id, token)
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_rated"
    context.close()


def test_the_comment_adds_to_the_rating(chromium, app):
    """On the home page (inline): thumb, then a comment, each reaching the site once; another tab's Calls
    page shows both as they come."""
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    calls = context.new_page()
    calls.add_init_script(NO_POLLING)
    calls.goto(f"{app.url}/calls")
    call_id, token = call_and_hang_up(widget)

    widget.part("feedback-down").click()
    comment = widget.part("feedback-comment")
    comment.wait_for(state="visible")
    assert comment.evaluate("(el) => el.getRootNode().activeElement === el"), "the focus moves to the comment"
    assert comment.get_attribute("maxlength") == "500"
    widget.wait_text("feedback", "Thanks for rating this call.")
    assert widget.part("feedback-down").is_disabled(), "one rating per call"
    wait_for(
        lambda: "Not helpful" in shown_rating(calls, call_id), timeout=10, what="the rating in the other tab"
    )

    comment.fill("Too slow to answer.")
    widget.part("feedback-send").click()
    widget.wait_text("feedback-result", "^Thank you for your feedback!$")
    assert not widget.part("feedback").is_visible()
    assert page.evaluate("window.__fb") == [
        {"callId": call_id, "rating": "down", "comment": "", "result": "sent"},
        {"callId": call_id, "rating": "down", "comment": "Too slow to answer.", "result": "sent"},
    ]
    wait_for(lambda: "Too slow to answer." in shown_rating(calls, call_id), timeout=10, what="the comment")

    # Another visitor (no token, or someone else's) is refused; so is a second comment from the visitor.
    assert post_feedback(app.url, call_id, None).status_code == 403
    assert post_feedback(app.url, call_id, "not-the-token").json()["error"]["code"] == "forbidden"
    again = post_feedback(app.url, call_id, token, comment="And again")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
    context.close()


def test_a_rating_given_just_before_leaving_the_page_arrives(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    call_id, _ = call_and_hang_up(widget)
    widget.part("feedback-up").click()
    page.goto(f"{app.url}/calls")  # at once, while the rating may still be on its way
    wait_for(
        lambda: (page.reload(), "Helpful" in shown_rating(page, call_id))[1],
        timeout=10,
        what="the rating on the Calls page",
    )
    context.close()


def test_refusals_are_shown_politely(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page

    # Rated already (here from another tab with the same token): the widget says so, without an error.
    call_id, token = call_and_hang_up(widget)
    assert post_feedback(app.url, call_id, token).status_code == 204
    widget.part("feedback-down").click()
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
    widget.part("feedback-comment").wait_for(state="visible")  # the rating is taken
    widget.part("feedback-skip").click()  # no comment
    widget.wait_text("feedback-result", "^Thank you for your feedback!$")
    assert [e["comment"] for e in widget.page.evaluate("window.__fb")] == [""]
    # Someone else, signed in or not, cannot rate Ada's call.
    other = requests.Session()
    sign_in(other, app.url, "Eve")
    assert post_feedback(app.url, call_id, None, session=other).status_code == 403
    context.close()
