"""Consent before the first call (HMS_REQUIRE_CONSENT) and the visitor's feedback after it, server side."""

from __future__ import annotations

import pytest

from flask_hms_webcall import signals
from flask_hms_webcall._feedback import feedback_token
from tests.support import assert_error, client_for, make_app, start

# --------------------------------------------------------------------------------------------- consent


def test_a_create_without_the_required_consent_is_refused_and_sends_nothing(hms):
    app, _ = make_app(HMS_REQUIRE_CONSENT="2")
    assert_error(start(client_for(app)), 400, "consent_required")
    assert_error(start(client_for(app), {"consent": "1"}), 400, "consent_required")  # an older text
    assert hms.count == 0


def test_accepted_consent_goes_into_every_webhook_of_the_call(hms):
    app, webcall = make_app(HMS_REQUIRE_CONSENT="2")
    app.extensions["hms_webcall"].clock = lambda: 1_800_000_000

    @webcall.before_create
    def spoof(call):
        call.metadata["consent_version"] = "forged"

    assert start(client_for(app, "alice"), {"consent": "2"}).status_code == 201
    metadata = hms.bodies[-1]["assistant_override"]["metadata"]
    assert metadata["consent_version"] == "2"
    assert metadata["consent_at"] == "2027-01-15T08:00:00Z"
    assert metadata["user_id"] == "alice"


def test_consent_is_accepted_but_not_recorded_when_not_required(hms):
    app, _ = make_app()
    assert start(client_for(app), {"consent": "1"}).status_code == 201
    assert "consent_version" not in hms.bodies[-1].get("assistant_override", {}).get("metadata", {})


@pytest.mark.parametrize("consent", ["", "x" * 41, 2, None, ["1"]])
def test_a_malformed_consent_is_an_invalid_request(hms, consent):
    app, _ = make_app(HMS_REQUIRE_CONSENT="1")
    assert_error(start(client_for(app), {"consent": consent}), 400, "invalid_request")


def test_a_numeric_consent_version_from_the_environment_is_its_text():
    app, _ = make_app(HMS_REQUIRE_CONSENT=3)  # FLASK_HMS_REQUIRE_CONSENT=3 through from_prefixed_env
    assert app.extensions["hms_webcall"].settings.require_consent == "3"


# -------------------------------------------------------------------------------------------- feedback


def rate(client, call_id, body, token=None):
    headers = {"X-HMS-Feedback-Token": token} if token else {}
    return client.post(f"/hms/web-calls/{call_id}/feedback", json=body, headers=headers)


@pytest.fixture
def feedback_app(hms):
    app, webcall = make_app(HMS_MAX_CALLS_PER_USER=5)
    received = []

    @webcall.on_feedback
    def store(call_id, rating, comment, identity):
        received.append((call_id, rating, comment, identity))

    return app, received


def test_the_creator_rates_a_call_once(feedback_app):
    app, received = feedback_app
    alice = client_for(app, "alice")
    call = start(alice).json
    assert "feedback_token" not in call  # a member is recognised by who they are
    response = rate(alice, call["call_id"], {"rating": "up", "comment": "Quick and clear."})
    assert response.status_code == 204
    assert received == [(call["call_id"], "up", "Quick and clear.", "alice")]
    assert_error(rate(alice, call["call_id"], {"rating": "down"}), 409, "already_rated")
    assert len(received) == 1


def test_someone_else_cannot_rate_a_members_call(feedback_app):
    app, received = feedback_app
    call_id = start(client_for(app, "alice")).json["call_id"]
    assert_error(rate(client_for(app, "bob"), call_id, {"rating": "down"}), 403, "forbidden")
    assert_error(rate(client_for(app), call_id, {"rating": "down"}), 403, "forbidden")
    assert received == []


def test_a_members_call_never_yields_to_a_creator_token(feedback_app):
    app, received = feedback_app
    call_id = start(client_for(app, "alice")).json["call_id"]
    # The very token an anonymous creator of this call would hold: still not Alice.
    token = feedback_token(app.extensions["hms_webcall"], call_id)
    assert_error(rate(client_for(app), call_id, {"rating": "down"}, token=token), 403, "forbidden")
    assert received == []


def test_an_anonymous_visitor_rates_with_the_token_of_their_create(feedback_app):
    app, received = feedback_app
    visitor = client_for(app, ip="198.51.100.1")
    call = start(visitor).json
    token = call["feedback_token"]
    # Another visitor, even on the same network, without the token: refused.
    assert_error(
        rate(client_for(app, ip="198.51.100.1"), call["call_id"], {"rating": "down"}), 403, "forbidden"
    )
    assert_error(rate(visitor, call["call_id"], {"rating": "down"}, token="A" * 43), 403, "forbidden")
    # A token is for its own call only.
    other = start(client_for(app, ip="198.51.100.2")).json
    assert_error(rate(visitor, other["call_id"], {"rating": "up"}, token=token), 403, "forbidden")
    # The token works from another address (a phone moving from Wi-Fi to mobile data).
    assert (
        rate(client_for(app, ip="203.0.113.50"), call["call_id"], {"rating": "up"}, token=token).status_code
        == 204
    )
    assert received == [(call["call_id"], "up", None, None)]


def test_an_unknown_or_old_call_cannot_be_rated(feedback_app):
    app, _ = feedback_app
    assert_error(rate(client_for(app, "alice"), "no-such-call", {"rating": "up"}), 403, "forbidden")


def test_a_comment_follows_the_rating_once(feedback_app):
    app, received = feedback_app
    alice = client_for(app, "alice")
    call_id = start(alice).json["call_id"]
    assert rate(alice, call_id, {"rating": "up"}).status_code == 204  # the thumb, sent on its own
    assert received == [(call_id, "up", None, "alice")]
    # Someone else cannot add a comment to Alice's rating.
    assert_error(rate(client_for(app, "bob"), call_id, {"rating": "up", "comment": "Spam"}), 403, "forbidden")
    # Neither another rating, nor a comment that would change the rating, nor a bare repeat.
    assert_error(rate(alice, call_id, {"rating": "down", "comment": "Changed my mind"}), 409, "already_rated")
    assert_error(rate(alice, call_id, {"rating": "up"}), 409, "already_rated")
    assert rate(alice, call_id, {"rating": "up", "comment": "Quick and clear."}).status_code == 204
    assert received[-1] == (call_id, "up", "Quick and clear.", "alice")
    # The comment is given once.
    assert_error(rate(alice, call_id, {"rating": "up", "comment": "And more"}), 409, "already_rated")
    assert len(received) == 2


def test_no_comment_follows_a_rating_given_with_its_comment(feedback_app):
    app, received = feedback_app
    alice = client_for(app, "alice")
    call_id = start(alice).json["call_id"]
    assert rate(alice, call_id, {"rating": "down", "comment": "Too slow"}).status_code == 204
    assert_error(rate(alice, call_id, {"rating": "down", "comment": "Really"}), 409, "already_rated")
    assert received == [(call_id, "down", "Too slow", "alice")]


def test_an_anonymous_visitor_adds_a_comment_with_their_token(feedback_app):
    app, received = feedback_app
    visitor = client_for(app, ip="198.51.100.7")
    call = start(visitor).json
    call_id, token = call["call_id"], call["feedback_token"]
    assert rate(visitor, call_id, {"rating": "up"}, token=token).status_code == 204
    assert_error(rate(visitor, call_id, {"rating": "up", "comment": "Hi"}), 403, "forbidden")  # no token
    assert rate(visitor, call_id, {"rating": "up", "comment": "Hi"}, token=token).status_code == 204
    assert received == [(call_id, "up", None, None), (call_id, "up", "Hi", None)]


def test_feedback_is_remembered_across_workers(hms, redis_url):
    first, _ = make_app(HMS_STORAGE_URI=redis_url)
    second, _ = make_app(HMS_STORAGE_URI=redis_url)
    call_id = start(client_for(first, "alice")).json["call_id"]
    assert rate(client_for(first, "alice"), call_id, {"rating": "up"}).status_code == 204
    assert_error(rate(client_for(second, "alice"), call_id, {"rating": "up"}), 409, "already_rated")
    # The comment follows on another worker, once, and only for the rating given.
    down = {"rating": "down", "comment": "Hmm"}
    assert_error(rate(client_for(second, "alice"), call_id, down), 409, "already_rated")
    assert rate(client_for(second, "alice"), call_id, {"rating": "up", "comment": "Nice"}).status_code == 204
    up_again = {"rating": "up", "comment": "Again"}
    assert_error(rate(client_for(first, "alice"), call_id, up_again), 409, "already_rated")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rating": "meh"},
        {"rating": "up", "comment": "x" * 501},
        {"rating": "up", "comment": 5},
        {"rating": "up", "extra": 1},
        ["up"],
    ],
)
def test_malformed_feedback_is_an_invalid_request_and_not_spent(feedback_app, body):
    app, received = feedback_app
    alice = client_for(app, "alice")
    call_id = start(alice).json["call_id"]
    assert_error(alice.post(f"/hms/web-calls/{call_id}/feedback", json=body), 400, "invalid_request")
    assert rate(alice, call_id, {"rating": "down"}).status_code == 204
    assert received[-1][1] == "down"


def test_feedback_signal(feedback_app):
    app, _ = feedback_app
    seen = []

    def on_feedback(sender, **kwargs):
        seen.append(kwargs)

    signals.feedback_received.connect(on_feedback, app)
    alice = client_for(app, "alice")
    call_id = start(alice).json["call_id"]
    rate(alice, call_id, {"rating": "down", "comment": "Too slow"})
    assert seen == [
        {"call_id": call_id, "rating": "down", "comment": "Too slow", "identity": "alice", "follow_up": False}
    ]
    # The thumb first, then a comment: the signal says which is which.
    seen.clear()
    call_id = start(alice).json["call_id"]
    rate(alice, call_id, {"rating": "up"})
    rate(alice, call_id, {"rating": "up", "comment": "Thanks"})
    assert [(s["rating"], s["comment"], s["follow_up"]) for s in seen] == [
        ("up", None, False),
        ("up", "Thanks", True),
    ]


def test_feedback_from_another_site_is_refused(feedback_app):
    app, received = feedback_app
    alice = client_for(app, "alice")
    call_id = start(alice).json["call_id"]
    response = alice.post(
        f"/hms/web-calls/{call_id}/feedback",
        json={"rating": "up"},
        headers={"Origin": "https://evil.example"},
    )
    assert_error(response, 403, "forbidden_origin")
    assert received == []


def test_wrong_method_on_feedback_is_a_json_405(feedback_app):
    app, _ = feedback_app
    response = client_for(app).get("/hms/web-calls/abc/feedback")
    assert_error(response, 405, "method_not_allowed")
