"""Page actions under attack, on the memory store and on a real Redis: who may make the stream route touch the
store, what a ``Last-Event-ID`` can read (before and after the end of the call), and an action a handler
cannot send (a lone surrogate echoed from the arguments) failing alone."""

from __future__ import annotations

import json
import logging

import pytest

from flask_hms_webcall import PageActionCall, _actions
from tests.support import assert_error, client_for, make_app, start, webhook
from tests.test_page_actions import ended, sse, tool_call

# Ids no stream sent: past Redis's two unsigned 64-bit parts, negative, cut short, digits that are not
# ASCII (as sent, and as a WSGI server hands over their UTF-8), whitespace forms, ids the stores really
# issue but unsigned (the memory store's first, a Redis id), and huge.
HOSTILE_IDS = [
    "18446744073709551616-0",
    "9223372036854775808-0",
    "0-18446744073709551616",
    "99999999999999999999999",
    "-1",
    "1-",
    "-",
    "٣",
    "١٢",
    "١٢".encode().decode("latin-1"),
    " 1",
    "1 ",
    "1\t",
    "0",
    "1",
    "1-0",
    "1.",
    ".",
    "1" * 10_000,
]


@pytest.fixture(autouse=True)
def short_streams(monkeypatch):
    """Streams end after a few seconds here, so a stream that wrongly stays open fails its test, not hangs."""
    monkeypatch.setattr(_actions, "STREAM_LIFETIME", 5)


@pytest.fixture(params=["memory", "redis"])
def shop(request, hms):
    """An app with the page action ``show_order`` (its action echoes the arguments) and the tool
    ``lookup``, on the memory store or on Redis."""
    config = {} if request.param == "memory" else {"HMS_STORAGE_URI": request.getfixturevalue("redis_url")}
    app, webcall = make_app(HMS_MAX_CALLS_PER_USER=5, **config)

    @webcall.page_action("show_order")
    def show_order(call: PageActionCall):
        return "Shown.", dict(call.arguments)

    @webcall.tool("lookup")
    def lookup(arguments, event):
        return "Order 1 ships tomorrow."

    return app


def publish(app, call_id: str, *orders: str) -> None:
    for order in orders:
        delivery = tool_call(call_id, "show_order", {"order_id": order}, tool_call_id=f"tc_{order}")
        reply = webhook(app, delivery)
        assert reply.json["results"][0]["result"] == "Shown."


def received(events) -> list[str]:
    return [json.loads(data)["args"]["order_id"] if kind == "action" else kind for _, kind, data in events]


class StoreReads:
    """Records every call of the store methods the stream route may make."""

    def __init__(self, monkeypatch, store) -> None:
        self.calls: list[str] = []
        for name in ("call_owner", "read_actions"):
            method = getattr(store, name)
            monkeypatch.setattr(store, name, self._recording(name, method))

    def _recording(self, name, method):
        def record(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return record


def test_a_stranger_is_refused_before_the_store_is_read(shop, monkeypatch, caplog):
    visitor = client_for(shop, ip="198.51.100.1")
    call = start(visitor).json
    path, _, token = call["actions_url"].partition("?token=")
    publish(shop, call["call_id"], "1")
    reads = StoreReads(monkeypatch, shop.extensions["hms_webcall"].store)
    stranger = client_for(shop, ip="203.0.113.66")
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        for headers in ({}, {"Last-Event-ID": "18446744073709551616-0"}, {"Last-Event-ID": "0"}):
            assert_error(stranger.get(path, headers=headers), 403, "forbidden")
            assert_error(stranger.get(f"{path}?token={'A' * 43}", headers=headers), 403, "forbidden")
    assert reads.calls == []
    assert caplog.records == []
    # A signed-in stranger is told apart only by the call's record: its log is never read.
    assert_error(client_for(shop, "mallory").get(path, headers={"Last-Event-ID": "0"}), 403, "forbidden")
    assert reads.calls == ["call_owner"]
    assert_error(visitor.get(f"{path}?token={token}", headers={"Last-Event-ID": "0"}), 400, "invalid_request")


@pytest.mark.parametrize(
    "query",
    [
        "?token=%ED%A0%80",
        "?token=%FF%FE",
        "?token=%00",
        "?token=%C3%A9",
        "?token=" + "A" * 100_000,
        "?token=",
    ],
)
@pytest.mark.parametrize("call_id", ["%ED%A0%80", "%FF", "%00", "..", "%C3%A9", "x" * 20_000, "{call}"])
def test_hostile_tokens_and_call_ids_are_refused_alike_without_a_store_read(
    shop, monkeypatch, query, call_id
):
    visitor = client_for(shop, ip="198.51.100.1")
    call = start(visitor).json
    reads = StoreReads(monkeypatch, shop.extensions["hms_webcall"].store)
    path = f"/hms/web-calls/{call_id.format(call=call['call_id'])}/actions{query}"
    assert_error(visitor.get(path, headers={"Last-Event-ID": "0"}), 403, "forbidden")
    assert reads.calls == []


@pytest.mark.parametrize("last_event_id", HOSTILE_IDS)
def test_an_id_the_stream_never_sent_is_a_400_whatever_it_holds(shop, caplog, last_event_id):
    alice = client_for(shop, "alice")
    call = start(alice).json
    publish(shop, call["call_id"], "1")
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        response = alice.get(call["actions_url"], headers={"Last-Event-ID": last_event_id}, buffered=False)
        response.close()
    assert_error(response, 400, "invalid_request")
    assert caplog.records == []  # nothing at ERROR, no traceback


def test_an_id_sent_for_another_call_is_refused(shop):
    alice = client_for(shop, "alice")
    first, second = start(alice).json, start(alice).json
    publish(shop, first["call_id"], "1")
    opened = alice.get(first["actions_url"], buffered=False)
    webhook(shop, ended(first["call_id"]))
    [(first_id, _, _), _] = sse(opened)
    assert_error(
        alice.get(second["actions_url"], headers={"Last-Event-ID": first_id}), 400, "invalid_request"
    )
    # Nor does an id with its signature altered pass (the store id changed, the signature kept).
    store_id, _, signature = first_id.rpartition(".")
    forged = f"{store_id[:-1]}{int(store_id[-1]) ^ 1}.{signature}"
    assert_error(alice.get(first["actions_url"], headers={"Last-Event-ID": forged}), 400, "invalid_request")


def test_after_the_end_no_made_up_id_reads_the_log(shop):
    alice = client_for(shop, "alice")
    call = start(alice).json
    publish(shop, call["call_id"], "1", "2")
    webhook(shop, ended(call["call_id"]))
    assert_error(alice.get(call["actions_url"]), 410, "call_ended")
    for made_up in ("0", "1", "0-0", "1-0", "0-1"):
        response = alice.get(call["actions_url"], headers={"Last-Event-ID": made_up})
        assert_error(response, 400, "invalid_request")


def test_a_browser_that_lost_its_stream_before_the_end_gets_what_it_missed_then_the_end(shop):
    alice = client_for(shop, "alice")
    call = start(alice).json
    publish(shop, call["call_id"], "1")
    response = alice.get(call["actions_url"], buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")
    first = next(chunks).decode()
    assert '"order_id":"1"' in first
    last_id = first.split("\n", 1)[0].removeprefix("id: ")
    response.close()  # the connection drops; the call goes on without the browser
    publish(shop, call["call_id"], "2", "3")
    webhook(shop, ended(call["call_id"]))
    again = sse(alice.get(call["actions_url"], headers={"Last-Event-ID": last_id}))
    assert received(again) == ["2", "3", "end"]
    # The id of the last action it got: nothing more than the end.
    assert received(sse(alice.get(call["actions_url"], headers={"Last-Event-ID": again[1][0]}))) == ["end"]


@pytest.mark.parametrize(
    "echoed",
    [{"order_id": "\ud800"}, {"\udfff": "1"}, {"order_id": ["ok", {"note": "a\udc80b"}]}],
    ids=["value", "key", "nested"],
)
def test_an_action_with_a_lone_surrogate_fails_alone_and_the_delivery_is_answered(shop, caplog, echoed):
    alice = client_for(shop, "alice")
    call = start(alice).json
    delivery = tool_call(call["call_id"], "show_order", echoed, tool_call_id="tc_bad")
    for tool_call_id, name, arguments in (
        ("tc_ok", "show_order", {"order_id": "9"}),
        ("tc_tool", "lookup", {}),
    ):
        function = {"name": name, "arguments": arguments}
        delivery["message"]["tool_call_list"].append(
            {"id": tool_call_id, "type": "function", "function": function}
        )
    with caplog.at_level(logging.ERROR, logger="flask_hms_webcall"):
        reply = webhook(shop, delivery)
    assert reply.status_code == 200
    assert reply.json["results"] == [
        {"tool_call_id": "tc_bad", "result": "Error: the page action 'show_order' failed."},
        {"tool_call_id": "tc_ok", "result": "Shown."},
        {"tool_call_id": "tc_tool", "result": "Order 1 ships tomorrow."},
    ]
    assert "not Unicode text" in caplog.text and "Traceback" not in caplog.text
    opened = alice.get(call["actions_url"], buffered=False)
    webhook(shop, ended(call["call_id"]))
    assert received(sse(opened)) == ["9", "end"]


@pytest.mark.parametrize("event_type", ["status-update", "end-of-call-report", "tool-calls"])
def test_a_call_id_that_is_not_text_names_no_call_and_the_delivery_is_answered(shop, event_type):
    # JSON can spell a lone surrogate ("\ud800"); Redis cannot hold it as a key. Such an id names no call:
    # the delivery is answered like one for an unknown call, and the calls the store holds are untouched.
    alice = client_for(shop, "alice")
    call = start(alice).json
    message = {
        "type": event_type,
        "call": {"id": "call-\ud800", "status": "ended"},
        "status": "ended",
        "endedReason": "customer-ended-call",
        "durationSeconds": 12,
        "tool_call_list": [
            {"id": "tc_1", "type": "function", "function": {"name": "lookup", "arguments": {}}}
        ],
    }
    reply = webhook(shop, {"message": message})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    if event_type == "tool-calls":
        assert reply.json["results"] == [{"tool_call_id": "tc_1", "result": "Order 1 ships tomorrow."}]
    opened = alice.get(call["actions_url"], buffered=False)  # alice's call is still live
    assert opened.status_code == 200
    webhook(shop, ended(call["call_id"]))
    assert received(sse(opened)) == ["end"]
