"""The webhook envelope schema answers every payload as marshmallow itself would, fast path or not."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from marshmallow import Schema, ValidationError

from flask_hms_webcall.schemas import WebhookEnvelopeSchema

PAYLOADS = [
    {"message": {"type": "status-update", "call": {"id": "c1"}}},
    {"message": {}, "extra": 1, "more": [1, 2]},
    {"message": OrderedDict(type="tool-calls")},
    {"message": None},
    {"message": []},
    {"message": "text"},
    {"other": {}},
    {},
    [],
    "message",
    None,
    3,
]


def marshmallow_load(payload):
    # The schema's own rules, without the fast path.
    return Schema.load(WebhookEnvelopeSchema(), payload)


def outcome(load, payload):
    try:
        return "ok", load(payload)
    except ValidationError as exc:
        return "error", exc.messages


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_the_envelope_is_read_as_marshmallow_reads_it(payload):
    assert outcome(WebhookEnvelopeSchema().load, payload) == outcome(marshmallow_load, payload)


def test_the_message_is_a_copy():
    payload = {"message": {"type": "status-update"}}
    loaded = WebhookEnvelopeSchema().load(payload)
    loaded["message"]["type"] = "changed"
    assert payload["message"]["type"] == "status-update"
