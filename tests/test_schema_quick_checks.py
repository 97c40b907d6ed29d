"""The quick checks in front of two schemas accept and refuse exactly what the schemas do, with the same
result: the create body's reference mode (an assistant id alone) and HMS's 200 answer."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from marshmallow import ValidationError

from flask_hms_webcall.schemas import (
    CreateWebCallSchema,
    WebCallResponseSchema,
    _first_message,
    create_body_error,
    load_web_call_answer,
)

ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
BODIES = [
    {"assistant_id": ASSISTANT_ID},
    {"assistant_id": ASSISTANT_ID.upper()},
    {"assistant_id": "{" + ASSISTANT_ID + "}"},  # uuid.UUID takes braces; so must the quick check
    {"assistant_id": ASSISTANT_ID.replace("-", "")},
    {"assistant_id": "urn:uuid:" + ASSISTANT_ID},
    {"assistant_id": ASSISTANT_ID + "0"},
    {"assistant_id": "not-a-uuid"},
    {"assistant_id": ""},
    {"assistant_id": None},
    {"assistant_id": 17},
    {"assistant_id": [ASSISTANT_ID]},
    {"assistant_id": b"17a0cb75fa094bdd9a4492a70d829c88"},
    {"assistant_id": ASSISTANT_ID, "assistant_override": None},
    {"assistant_id": ASSISTANT_ID, "extra": 1},
    {"assistant_ID": ASSISTANT_ID},
    OrderedDict(assistant_id=ASSISTANT_ID),
    {},
]


def schema_error(body):
    try:
        CreateWebCallSchema().load(body)
    except ValidationError as exc:
        return _first_message(exc.messages)
    return None


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_a_create_body_is_judged_as_the_schema_judges_it(body):
    assert create_body_error(body) == schema_error(body)


ANSWER = {
    "success": True,
    "call_id": "call-1",
    "room_name": "web-3f2a1b4c",
    "token": "eyJhbGciOiJIUzI1NiJ9.payload.signature",
    "server_url": "wss://rtc.example",
}
ANSWERS = [
    ANSWER,
    {**ANSWER, "extra": {"nested": 1}},
    {key: value for key, value in ANSWER.items() if key not in ("success", "room_name")},
    {**ANSWER, "success": False},
    {**ANSWER, "success": "true"},
    {**ANSWER, "success": 1},
    {**ANSWER, "success": None},
    {**ANSWER, "room_name": None},
    {**ANSWER, "room_name": ""},
    {**ANSWER, "room_name": "r" * 200},
    {**ANSWER, "room_name": "r" * 201},
    {**ANSWER, "room_name": 7},
    {**ANSWER, "call_id": ""},
    {**ANSWER, "call_id": "c" * 200},
    {**ANSWER, "call_id": "c" * 201},
    {**ANSWER, "call_id": 42},
    {**ANSWER, "call_id": None},
    {key: value for key, value in ANSWER.items() if key != "call_id"},
    {**ANSWER, "token": ""},
    {**ANSWER, "token": "t" * 16384},
    {**ANSWER, "token": "t" * 16385},
    {**ANSWER, "token": ["t"]},
    {**ANSWER, "server_url": "ws://127.0.0.1:7880"},
    {**ANSWER, "server_url": "https://rtc.example"},
    {**ANSWER, "server_url": "WSS://rtc.example"},
    {**ANSWER, "server_url": "wss://" + "h" * 2042},
    {**ANSWER, "server_url": "wss://" + "h" * 2043},
    {**ANSWER, "server_url": ""},
    {key: value for key, value in ANSWER.items() if key != "server_url"},
]


def outcome(load, answer):
    try:
        return "loaded", load(answer)
    except ValidationError as exc:
        return "refused", exc.messages


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: repr(a)[:80])
def test_an_answer_is_loaded_as_the_schema_loads_it(answer):
    assert outcome(load_web_call_answer, answer) == outcome(WebCallResponseSchema().load, answer)
