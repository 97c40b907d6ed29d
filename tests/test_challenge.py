"""The proof-of-work challenge (ALTCHA) before anonymous creates, and the site's own verifier instead."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import altcha
import altcha.v1 as altcha_v1
import pytest
import requests
import responses

from tests.support import URL, StubHMS, assert_error, client_for, make_app, start

ALTCHA = {"HMS_CHALLENGE": "altcha", "HMS_CHALLENGE_COMPLEXITY": 2000}


def solve(challenge: dict, *, number: int | None = None) -> str:
    """What the widget's worker sends back: base64(JSON) of the challenge with the number found."""
    if number is None:
        found = altcha.solve_challenge_v1(
            challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
        )
        assert found is not None
        number = found.number
    payload = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps({**payload, "number": number}).encode()).decode()


def challenge_of(response) -> dict:
    assert_error_with_challenge(response)
    return response.json["error"]["challenge"]


def assert_error_with_challenge(response) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == "challenge_required"
    assert set(error["challenge"]) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}


def test_an_anonymous_create_without_a_solution_gets_a_challenge_and_spends_nothing(hms):
    app, _ = make_app(HMS_RATE_LIMIT="1 per minute", **ALTCHA)
    visitor = client_for(app)
    first = start(visitor)
    challenge = challenge_of(first)
    assert challenge["algorithm"] == "SHA-256" and challenge["maxnumber"] == 2000
    assert "expires=" in challenge["salt"]
    assert hms.count == 0
    # Asking cost no attempt: the solved create is still within "1 per minute".
    assert start(visitor, {"challenge": solve(challenge)}).status_code == 201
    assert hms.count == 1


def test_members_are_not_challenged_unless_everyone_is(hms):
    app, _ = make_app(**ALTCHA)
    assert start(client_for(app, "member")).status_code == 201
    app, _ = make_app(HMS_CHALLENGE_FOR="everyone", **ALTCHA)
    assert_error_with_challenge(start(client_for(app, "member")))


def test_the_challenge_can_be_fetched_before_the_create(hms):
    app, _ = make_app(**ALTCHA)
    visitor = client_for(app)
    answer = visitor.get("/hms/challenge")
    assert answer.status_code == 200 and answer.json["required"] is True
    assert answer.headers["Cache-Control"] == "no-store"
    assert start(visitor, {"challenge": solve(answer.json["challenge"])}).status_code == 201
    member = client_for(app, "member").get("/hms/challenge")
    assert member.json == {"challenge": None, "required": False}


def test_without_a_challenge_configured_nobody_is_asked(hms):
    app, _ = make_app()
    assert client_for(app).get("/hms/challenge").json == {"challenge": None, "required": False}
    assert start(client_for(app)).status_code == 201


def test_a_wrong_solution_is_refused(hms):
    app, _ = make_app(**ALTCHA)
    challenge = challenge_of(start(client_for(app)))
    correct = json.loads(base64.b64decode(solve(challenge)))["number"]
    assert_error(
        start(client_for(app), {"challenge": solve(challenge, number=correct + 1)}), 403, "challenge_failed"
    )
    assert hms.count == 0


@pytest.mark.parametrize(
    "solution",
    ["not base64 at all!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b"{}").decode(), "e30"],
)
def test_malformed_solutions_are_refused_not_crashed(hms, solution):
    app, _ = make_app(**ALTCHA)
    assert_error(start(client_for(app), {"challenge": solution}), 403, "challenge_failed")


def test_a_challenge_signed_with_another_key_is_refused(hms):
    other, _ = make_app(HMS_CHALLENGE_KEY="another-site-key-0123456789", **ALTCHA)
    challenge = challenge_of(start(client_for(other)))
    app, _ = make_app(**ALTCHA)
    assert_error(start(client_for(app), {"challenge": solve(challenge)}), 403, "challenge_failed")


def test_an_expired_solution_is_refused(hms):
    app, _ = make_app(HMS_CHALLENGE_TTL=60, **ALTCHA)
    state = app.extensions["hms_webcall"]
    now = state.clock()
    challenge = challenge_of(start(client_for(app)))
    state.clock = lambda: now + 61
    assert_error(start(client_for(app), {"challenge": solve(challenge)}), 403, "challenge_failed")


def test_a_solution_is_accepted_once(hms):
    app, _ = make_app(HMS_MAX_CALLS_PER_USER=5, **ALTCHA)
    solution = solve(challenge_of(start(client_for(app))))
    assert start(client_for(app), {"challenge": solution}).status_code == 201
    assert_error(start(client_for(app, ip="198.51.100.9"), {"challenge": solution}), 403, "challenge_failed")
    assert hms.count == 1


@pytest.mark.redis
def test_a_solution_replayed_on_another_worker_is_refused(hms, redis_url):
    first, _ = make_app(HMS_STORAGE_URI=redis_url, **ALTCHA)
    second, _ = make_app(HMS_STORAGE_URI=redis_url, **ALTCHA)
    solution = solve(challenge_of(start(client_for(first))))
    assert start(client_for(first), {"challenge": solution}).status_code == 201
    assert_error(
        start(client_for(second, ip="198.51.100.9"), {"challenge": solution}), 403, "challenge_failed"
    )


def spellings(challenge: dict) -> dict[str, str]:
    """One solution of ``challenge`` written every way a client could: each is a valid solution on its own."""
    solution = json.loads(base64.b64decode(solve(challenge)))

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    canonical = json.dumps(solution)
    return {
        "canonical": b64(canonical),
        "keys reordered": b64(json.dumps(dict(reversed(list(solution.items()))))),
        "whitespace": b64(json.dumps(solution, indent=2)),
        "compact": b64(json.dumps(solution, separators=(",", ":"))),
        "number as a string": b64(json.dumps({**solution, "number": str(solution["number"])})),
        "salt without its trailing &": b64(json.dumps({**solution, "salt": solution["salt"].rstrip("&")})),
        "an extra field": b64(json.dumps({**solution, "took": 12})),
        "escaped characters": b64(canonical.replace("&", "\\u0026")),
        "JSON with a trailing newline": b64(canonical + "\n"),
        "base64 with a trailing newline": b64(canonical) + "\n",
        "base64 in lines": base64.encodebytes(canonical.encode()).decode(),
    }


SPELLINGS = (
    "canonical",
    "keys reordered",
    "whitespace",
    "compact",
    "number as a string",
    "salt without its trailing &",
    "an extra field",
    "escaped characters",
    "JSON with a trailing newline",
    "base64 with a trailing newline",
    "base64 in lines",
)


@pytest.mark.parametrize("first", SPELLINGS)
def test_a_solution_starts_one_call_whatever_its_spelling(hms, first):
    app, _ = make_app(HMS_MAX_CALLS_PER_USER=5, HMS_MAX_CONCURRENT_CALLS=20, **ALTCHA)
    written = spellings(challenge_of(start(client_for(app))))
    assert set(written) == set(SPELLINGS)
    assert start(client_for(app), {"challenge": written.pop(first)}).status_code == 201
    for n, (name, again) in enumerate(written.items()):
        refused = start(client_for(app, ip=f"198.51.{n}.9"), {"challenge": again})
        assert refused.status_code == 403, name
        assert_error(refused, 403, "challenge_failed")
    assert hms.count == 1


@pytest.mark.redis
def test_a_respelled_solution_replayed_on_another_worker_is_refused(hms, redis_url):
    first, _ = make_app(HMS_STORAGE_URI=redis_url, HMS_MAX_CONCURRENT_CALLS=20, **ALTCHA)
    second, _ = make_app(HMS_STORAGE_URI=redis_url, HMS_MAX_CONCURRENT_CALLS=20, **ALTCHA)
    written = spellings(challenge_of(start(client_for(first))))
    assert start(client_for(first), {"challenge": written.pop("canonical")}).status_code == 201
    for n, (name, again) in enumerate(written.items()):
        refused = start(client_for(second, ip=f"198.51.{n}.9"), {"challenge": again})
        assert refused.status_code == 403, name
        assert_error(refused, 403, "challenge_failed")
    assert hms.count == 1


def test_a_solution_expiring_later_than_the_ttl_allows_is_refused(hms):
    app, _ = make_app(HMS_CHALLENGE_TTL=60, **ALTCHA)
    state = app.extensions["hms_webcall"]

    def signed_challenge(seconds: float) -> dict:
        """A challenge signed with the site's own key, expiring ``seconds`` from now."""
        expires = datetime.fromtimestamp(state.clock() + seconds, timezone.utc)
        made = altcha_v1.create_challenge(
            altcha_v1.ChallengeOptions(
                max_number=2000, hmac_key=state.settings.challenge_key, expires=expires
            )
        )
        return {**made.to_dict(), "maxnumber": 2000}

    # Good for an hour where the site allows 60 s: refused, though everything else about it is right...
    assert_error(
        start(client_for(app), {"challenge": solve(signed_challenge(3600))}), 403, "challenge_failed"
    )
    # ...as the same challenge expiring within the TTL shows.
    assert start(client_for(app), {"challenge": solve(signed_challenge(50))}).status_code == 201
    assert hms.count == 1


def test_an_oversized_solution_is_an_invalid_request(hms):
    app, _ = make_app(**ALTCHA)
    assert_error(start(client_for(app), {"challenge": "x" * 4097}), 400, "invalid_request")


def test_the_key_defaults_to_one_derived_from_secret_key(hms):
    from flask_hms_webcall import ConfigurationError

    app, _ = make_app(**ALTCHA)
    assert app.extensions["hms_webcall"].settings.challenge_key not in (b"", b"test")
    with pytest.raises(ConfigurationError, match="HMS_CHALLENGE"):
        make_app(SECRET_KEY=None, **ALTCHA)
    with pytest.raises(ConfigurationError, match="HMS_CHALLENGE"):
        make_app(HMS_CHALLENGE="captcha")


# --------------------------------------------------------------------------- the site's own verifier

SITEVERIFY = "https://challenges.cloudflare.com/turnstile/v0/siteverify"


def turnstile_app():
    """The README's Turnstile verifier, against a stubbed siteverify endpoint."""
    app, webcall = make_app()

    @webcall.challenge_verifier
    def turnstile(token: str) -> bool:
        answer = requests.post(SITEVERIFY, data={"secret": "0x4AAA-test", "response": token}, timeout=5)
        return answer.ok and answer.json().get("success") is True

    return app


def test_a_turnstile_verifier_replaces_the_proof_of_work():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        StubHMS(mock)

        def siteverify(request):
            ok = "response=good-token" in request.body
            return 200, {}, json.dumps({"success": ok})

        mock.add_callback(responses.POST, SITEVERIFY, callback=siteverify)
        app = turnstile_app()
        missing = start(client_for(app))
        assert missing.status_code == 401
        assert missing.json["error"]["code"] == "challenge_required"
        assert missing.json["error"]["challenge"] is None  # the page's own widget makes the token
        assert_error(start(client_for(app), {"challenge": "bad-token"}), 403, "challenge_failed")
        assert start(client_for(app), {"challenge": "good-token"}).status_code == 201
        # A token is used once, here too.
        assert_error(
            start(client_for(app, ip="198.51.100.3"), {"challenge": "good-token"}), 403, "challenge_failed"
        )
        assert [call.request.url for call in mock.calls].count(URL) == 1
