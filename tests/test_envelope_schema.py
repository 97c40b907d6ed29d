"""parse_event's quick check of a delivery's envelope accepts and refuses exactly what the envelope schema
does, in the same words, and reads the message the same way."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from marshmallow import ValidationError

from flask_hms_webcall.errors import WebhookPayloadError
from flask_hms_webcall.events import parse_event
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


def schema_outcome(payload):
    try:
        WebhookEnvelopeSchema().load(payload)
    except ValidationError as exc:
        problem = "is not a JSON object" if "_schema" in exc.messages else "has no message object"
        return "refused", f"webhook payload {problem}"
    return "parsed", None


def parse_outcome(payload):
    try:
        parse_event(payload)
    except WebhookPayloadError as exc:
        return "refused", str(exc)
    return "parsed", None


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_the_envelope_is_judged_as_the_schema_judges_it(payload):
    assert parse_outcome(payload) == schema_outcome(payload)


def test_a_message_of_another_mapping_type_reads_as_a_plain_one():
    plain = {"message": {"type": "status-update", "status": "ended", "call": {"id": "c1"}}}
    ordered = {"message": OrderedDict(plain["message"])}
    assert vars(parse_event(ordered)) == {**vars(parse_event(plain)), "raw": ordered}


def test_parsing_leaves_the_payload_as_it_was():
    payload = {"message": {"type": "status-update", "assistant": {"metadata": {"k": "v"}}}}
    event = parse_event(payload)
    event.metadata["k"] = "changed"
    assert payload == {"message": {"type": "status-update", "assistant": {"metadata": {"k": "v"}}}}
