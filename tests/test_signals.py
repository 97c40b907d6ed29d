"""Signal receivers are the site owner's code: one that raises is logged and skipped, and never changes what
the visitor or HMS is answered; the other receivers still run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from flask_hms_webcall import signals
from tests.support import client_for, make_app, start, webhook

NOW = 1_800_000_000.0  # a fixed clock, so Retry-After is the same in both runs


def report(call_id: str) -> dict:
    return {"message": {"type": "end-of-call-report", "end_reason": "user_hangup", "call": {"id": call_id}}}


def create_hang_up_and_call_again(app) -> list:
    # Alice may hold one call: the second create is admitted only if the report was handled (slot released).
    alice = client_for(app, "alice")
    first = start(alice)
    return [first, webhook(app, report(first.json["call_id"])), start(alice)]


def refused_create(app) -> list:
    return [start(client_for(app, "alice"), {"assistant": 5}), start(client_for(app, "alice"), {"nope": 1})]


def budget_spent(app) -> list:
    # HMS_DAILY_MINUTES=5: Alice's call reserves all of it, so Bob is refused until the day ends.
    return [start(client_for(app, "alice")), start(client_for(app, "bob"))]


def failing_handler(app) -> list:
    webcall = app.extensions["hms_webcall"]

    def broken(event):
        raise RuntimeError("the site's database is down")

    webcall.hooks.handlers.append(("end-of-call-report", broken))
    return [webhook(app, report("call-x"))]


def rated(app) -> list:
    alice = client_for(app, "alice")
    call_id = start(alice).json["call_id"]
    rate = f"/hms/web-calls/{call_id}/feedback"
    return [
        alice.post(rate, json={"rating": "up"}),
        alice.post(rate, json={"rating": "up", "comment": "Thanks"}),
        alice.post(rate, json={"rating": "down"}),
    ]


# Each signal, the config and requests that send it, and what those requests are answered without receivers.
SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[Any], list]]] = {
    "call_created": ({}, create_hang_up_and_call_again),
    "call_refused": ({}, refused_create),
    "call_ended": ({}, create_hang_up_and_call_again),
    "webhook_received": ({}, create_hang_up_and_call_again),
    "webhook_failed": ({}, failing_handler),
    "budget_exhausted": ({"HMS_DAILY_MINUTES": 5, "HMS_MAX_CALLS_PER_USER": 5}, budget_spent),
    "feedback_received": ({}, rated),
}

# Per call and per moment: the rest of each answer must be identical.
VOLATILE = ("call_id", "room_name", "token", "server_url", "feedback_token", "actions_url")


def answer(response) -> tuple[int, Any, str | None, str | None]:
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        body = {key: ("..." if key in VOLATILE else value) for key, value in body.items()}
    return response.status_code, body, response.headers.get("Retry-After"), response.mimetype


def run(name: str, *receivers: Callable[..., Any]) -> list:
    config, scenario = SCENARIOS[name]
    app, _ = make_app(**config)
    app.extensions["hms_webcall"].clock = lambda: NOW
    for receiver in receivers:
        getattr(signals, name).connect(receiver, app)
    return scenario(app)


def broken_receiver(sender, **kwargs):
    raise RuntimeError("the site owner's receiver has a bug: secret-detail-42")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_raising_receiver_changes_no_answer_and_the_next_receiver_still_runs(hms, caplog, name):
    assert set(SCENARIOS) == set(signals.__all__)
    untouched = [answer(response) for response in run(name)]

    heard: list[dict] = []

    def recorder(sender, **kwargs):
        heard.append(kwargs)

    caplog.set_level(logging.ERROR, logger="flask_hms_webcall")
    responses = run(name, broken_receiver, recorder)

    assert [answer(response) for response in responses] == untouched
    assert heard, f"{name} was never sent, or the receiver after the broken one did not run"
    for response in responses:
        assert "secret-detail-42" not in response.get_data(as_text=True)
    failures = [r for r in caplog.records if "tests.test_signals.broken_receiver" in r.getMessage()]
    assert len(failures) == len(heard)
    assert all(r.name == "flask_hms_webcall" and r.exc_info is not None for r in failures)
    assert "secret-detail-42" in caplog.text  # the traceback is in the log, for the owner


def test_a_receiver_that_raises_is_logged_and_the_others_run_whatever_the_order():
    sender = object()
    heard = []

    def before(sender, **kwargs):
        heard.append("before")

    def after(sender, **kwargs):
        heard.append("after")

    signals.call_created.connect(before, sender)
    signals.call_created.connect(broken_receiver, sender)
    signals.call_created.connect(after, sender)
    try:
        results = signals.call_created.send(sender, call_id="c")
    finally:
        for receiver in (before, broken_receiver, after):
            signals.call_created.disconnect(receiver, sender)
    assert heard == ["before", "after"]
    assert [receiver for receiver, _ in results] == [before, after]
