"""Typed webhook events: both documented spellings, every field, and payloads that are odd but not fatal."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from flask_hms_webcall.errors import WebhookPayloadError
from flask_hms_webcall.events import (
    EndOfCallReport,
    Event,
    StatusUpdate,
    ToolCall,
    ToolCalls,
    UnknownEvent,
    parse_event,
)

CALL_ID = "3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c"
METADATA = {"user_id": "usr_8f3a2b1c", "session_id": "ses_9d4e3c2b", "UserID": "kept-as-is", "plan": "pro"}


def envelope(event_type, call_status="in-progress", **fields):
    return {
        "message": {
            "type": event_type,
            "timestamp": "2025-11-24T10:00:00Z",
            "call": {"id": CALL_ID, "type": "web_call", "status": call_status},
            "assistant": {"name": "Support", "metadata": copy.deepcopy(METADATA)},
            **fields,
        }
    }


# ------------------------------------------------------------------------------------------ status-update


def test_status_update_from_the_web_calls_page():
    payload = {
        "message": {
            "type": "status-update",
            "status": "in-progress",
            "call": {"id": CALL_ID, "type": "web_call", "status": "in-progress"},
        }
    }
    event = parse_event(payload)
    assert isinstance(event, StatusUpdate)
    assert event.type == "status-update"
    assert event.call_id == CALL_ID
    assert event.call_type == "web_call"
    assert event.call_status == "in-progress"
    assert event.status == "in-progress"
    assert event.error is None
    assert event.metadata == {}
    assert event.raw is payload
    assert event.is_final is False


def test_status_update_with_error_and_metadata():
    event = parse_event(
        envelope(
            "status-update", "ended-with-error", status="ended-with-error", error="STT connection failed"
        )
    )
    assert isinstance(event, StatusUpdate)
    assert event.status == "ended-with-error"
    assert event.error == "STT connection failed"
    assert event.metadata == METADATA
    assert event.is_final is True


def test_status_falls_back_to_the_call_status():
    payload = envelope("status-update", "ended")
    event = parse_event(payload)
    assert event.status == "ended"
    assert event.is_final is True


def test_message_status_wins_over_call_status():
    event = parse_event(envelope("status-update", "in-progress", status="ended"))
    assert event.status == "ended"
    assert event.call_status == "in-progress"


@pytest.mark.parametrize(
    ("status", "final"),
    [("in-progress", False), ("ringing", False), ("ended", True), ("ended-with-error", True), (None, False)],
)
def test_status_update_is_final_only_once_the_call_is_over(status, final):
    payload = envelope("status-update", status)
    if status is None:
        del payload["message"]["call"]["status"]
    assert parse_event(payload).is_final is final


def test_error_given_as_an_object_yields_its_message():
    event = parse_event(envelope("status-update", "ended-with-error", error={"message": "LLM timeout"}))
    assert event.error == "LLM timeout"


# ------------------------------------------------------------------------------------- end-of-call-report

SNAKE_REPORT = {
    "end_reason": "user_hangup",
    "duration_seconds": 47,
    "summary": "The user asked about pricing.",
    "messages": [{"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "Prices?"}],
    "analysis": {"structured_data": {"intent": "pricing"}},
    "recording_url": "https://recordings.example/3f2a.ogg",
}

CAMEL_REPORT = {
    "endedReason": "user_hangup",
    "durationSeconds": 47,
    "summary": "The user asked about pricing.",
    "transcript": ["Assistant: Hi!", "User: Prices?"],
    "analysis": {"structured_data": {"intent": "pricing"}},
    "recordingUrl": "https://recordings.example/3f2a.ogg",
}


def test_end_of_call_report_snake_case():
    event = parse_event(envelope("end-of-call-report", "ended", **SNAKE_REPORT))
    assert isinstance(event, EndOfCallReport)
    assert event.call_id == CALL_ID
    assert event.call_status == "ended"
    assert event.ended_reason == "user_hangup"
    assert event.duration_seconds == 47
    assert event.summary == "The user asked about pricing."
    assert event.transcript == tuple(SNAKE_REPORT["messages"])
    assert event.analysis == {"structured_data": {"intent": "pricing"}}
    assert event.recording_url == "https://recordings.example/3f2a.ogg"
    assert event.metadata == METADATA
    assert event.is_final is True


def test_end_of_call_report_camel_case_as_on_the_web_calls_page():
    event = parse_event(envelope("end-of-call-report", "ended", **CAMEL_REPORT))
    assert isinstance(event, EndOfCallReport)
    assert event.ended_reason == "user_hangup"
    assert event.duration_seconds == 47
    assert event.transcript == ("Assistant: Hi!", "User: Prices?")
    assert event.recording_url == "https://recordings.example/3f2a.ogg"


@pytest.mark.parametrize("key", ["end_reason", "ended_reason", "endedReason", "endReason"])
def test_every_spelling_of_the_end_reason(key):
    assert parse_event(envelope("end-of-call-report", **{key: "max_duration"})).ended_reason == "max_duration"


def test_end_reason_on_the_call_object_is_used_when_the_message_has_none():
    payload = envelope("end-of-call-report", "ended")
    payload["message"]["call"]["end_reason"] = "agent_hangup"
    assert parse_event(payload).ended_reason == "agent_hangup"


def test_a_malformed_spelling_does_not_hide_a_good_one():
    event = parse_event(
        envelope(
            "end-of-call-report",
            duration_seconds="a while",
            durationSeconds=12,
            messages=42,
            transcript=[{"role": "user", "content": "hi"}],
        )
    )
    assert event.duration_seconds == 12
    assert event.transcript == ({"role": "user", "content": "hi"},)


def test_report_without_optional_fields():
    event = parse_event(envelope("end-of-call-report", "ended"))
    assert isinstance(event, EndOfCallReport)
    assert event.ended_reason is None
    assert event.duration_seconds is None
    assert event.summary is None
    assert event.transcript == ()
    assert event.analysis is None
    assert event.recording_url is None
    assert event.is_final is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (47, 47),
        (47.4, 47),
        (46.6, 47),
        ("47", 47),
        (-1, None),
        (True, None),
        ("47s", None),
        (None, None),
        ([47], None),
        (float("nan"), None),
        (float("inf"), None),
        ({"s": 1}, None),
    ],
)
def test_duration_is_an_int_or_none(value, expected):
    assert parse_event(envelope("end-of-call-report", duration_seconds=value)).duration_seconds == expected


def test_wrong_types_become_none_or_empty():
    event = parse_event(
        envelope(
            "end-of-call-report",
            end_reason=42,
            summary={"text": "no"},
            messages={"role": "user"},
            analysis="positive",
            recording_url=["https://x"],
        )
    )
    assert event.ended_reason is None
    assert event.summary is None
    assert event.transcript == ()
    assert event.analysis is None
    assert event.recording_url is None


def test_transcript_drops_entries_that_are_neither_objects_nor_strings():
    event = parse_event(
        envelope("end-of-call-report", messages=[{"role": "user", "content": "hi"}, 3, None, "x"])
    )
    assert event.transcript == ({"role": "user", "content": "hi"}, "x")


def test_a_transcript_given_as_one_string_is_kept():
    event = parse_event(envelope("end-of-call-report", transcript="User: hi\nAssistant: hello"))
    assert event.transcript == ("User: hi\nAssistant: hello",)


# --------------------------------------------------------------------------------------------- tool-calls


def test_tool_calls_documented_shape():
    event = parse_event(
        envelope(
            "tool-calls",
            tool_call_list=[
                {
                    "id": "tc_1",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": {"order_id": "1042"}},
                },
                {"id": "tc_2", "type": "function", "function": {"name": "check_stock", "arguments": {}}},
            ],
        )
    )
    assert isinstance(event, ToolCalls)
    assert event.tool_calls == (
        ToolCall(id="tc_1", name="lookup_order", arguments={"order_id": "1042"}),
        ToolCall(id="tc_2", name="check_stock", arguments={}),
    )
    assert event.metadata == METADATA
    assert event.is_final is False


def test_tool_calls_camel_case_list_and_json_string_arguments():
    event = parse_event(
        envelope(
            "tool-calls",
            toolCallList=[
                {
                    "id": "tc_1",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": json.dumps({"order_id": "7"})},
                }
            ],
        )
    )
    assert event.tool_calls == (ToolCall("tc_1", "lookup_order", {"order_id": "7"}),)


def test_tool_calls_flat_shape():
    event = parse_event(
        envelope("tool-calls", tool_call_list=[{"id": "tc_9", "name": "lookup_order", "arguments": {"a": 1}}])
    )
    assert event.tool_calls == (ToolCall("tc_9", "lookup_order", {"a": 1}),)


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", "42", 42, None, ["a"], "[" * 100_000])
def test_unusable_tool_arguments_become_an_empty_object(arguments):
    event = parse_event(
        envelope(
            "tool-calls",
            tool_call_list=[{"id": "tc_1", "function": {"name": "lookup_order", "arguments": arguments}}],
        )
    )
    assert event.tool_calls == (ToolCall("tc_1", "lookup_order", {}),)


def test_malformed_tool_call_entries():
    event = parse_event(
        envelope("tool-calls", tool_call_list=["junk", None, {"function": "nope"}, {"id": 5, "function": {}}])
    )
    # Objects are kept (so the endpoint can still answer them) with empty fields; other entries are dropped.
    assert event.tool_calls == (ToolCall("", "", {}), ToolCall("", "", {}))


@pytest.mark.parametrize("value", [None, "tc", {"id": "tc_1"}, 3])
def test_tool_call_list_of_the_wrong_type_is_empty(value):
    event = parse_event(envelope("tool-calls", tool_call_list=value))
    assert isinstance(event, ToolCalls)
    assert event.tool_calls == ()


# ---------------------------------------------------------------------------------- unknown and defensive


@pytest.mark.parametrize(
    "event_type", ["assistant-request", "transcript", "hang", "", None, 7, ["status-update"]]
)
def test_other_types_are_unknown_events(event_type):
    payload = envelope("x")
    payload["message"]["type"] = event_type
    event = parse_event(payload)
    assert isinstance(event, UnknownEvent)
    assert event.type == (event_type if isinstance(event_type, str) else "")
    assert event.call_id == CALL_ID
    assert event.metadata == METADATA
    assert event.raw is payload
    assert event.is_final is False


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "message",
        42,
        {},
        {"message": None},
        {"message": "x"},
        {"message": []},
        {"msg": {"type": "status-update"}},
    ],
)
def test_payload_without_a_message_object_is_refused(payload):
    with pytest.raises(WebhookPayloadError):
        parse_event(payload)


def test_minimal_message_parses():
    event = parse_event({"message": {}})
    assert isinstance(event, UnknownEvent)
    assert (event.type, event.call_id, event.call_type, event.call_status, event.metadata) == (
        "",
        None,
        None,
        None,
        {},
    )


@pytest.mark.parametrize("call", [None, "3f2a", [], 5, {"id": 5, "type": ["web_call"], "status": {}}])
def test_malformed_call_object(call):
    payload = envelope("status-update", status="in-progress")
    payload["message"]["call"] = call
    event = parse_event(payload)
    assert (event.call_id, event.call_type, event.call_status) == (None, None, None)
    assert event.status == "in-progress"


def test_call_fields_at_message_level_in_either_spelling():
    snake = parse_event({"message": {"type": "status-update", "call_id": "c1", "call_type": "web_call"}})
    camel = parse_event({"message": {"type": "status-update", "callId": "c1", "callType": "web_call"}})
    assert (snake.call_id, snake.call_type) == ("c1", "web_call")
    assert (camel.call_id, camel.call_type) == ("c1", "web_call")


@pytest.mark.parametrize(
    "assistant", [None, "x", [], {"metadata": None}, {"metadata": ["user_id"]}, {"metadata": "user_id=1"}]
)
def test_metadata_that_is_not_an_object_is_empty(assistant):
    payload = envelope("end-of-call-report")
    payload["message"]["assistant"] = assistant
    assert parse_event(payload).metadata == {}


def test_metadata_keys_and_values_are_passed_through_untouched():
    metadata = {"UserID": 1, "user_id": "u", "nested": {"a": [1, 2]}, "camelCase": None}
    payload = envelope("status-update")
    payload["message"]["assistant"]["metadata"] = metadata
    assert parse_event(payload).metadata == metadata


def test_events_are_immutable_and_share_the_base_fields():
    event = parse_event(envelope("end-of-call-report", **SNAKE_REPORT))
    assert isinstance(event, Event)
    with pytest.raises(AttributeError):
        event.call_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("event_type", ["status-update", "end-of-call-report", "tool-calls", "hang"])
def test_a_parsed_event_is_the_one_its_class_builds(event_type):
    # parse_event fills a frozen event in one step, skipping the dataclass's __init__: every field must be
    # set, nothing else, and the result must equal what the class itself builds from the same values.
    event = parse_event(envelope(event_type, summary="s", tool_calls=[{"id": "t", "name": "n"}]))
    assert set(vars(event)) == {field.name for field in dataclasses.fields(event)}
    assert event == type(event)(**vars(event))
    assert repr(event) == repr(type(event)(**vars(event)))
