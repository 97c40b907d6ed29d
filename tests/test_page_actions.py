"""Page actions: @webcall.page_action, the tool-calls dispatch that publishes them, the store's action logs
(memory and Redis) and the SSE route the caller's browser reads them from."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from flask_hms_webcall import PageActionCall, _actions
from flask_hms_webcall.store import MemoryCallStore, RedisCallStore
from tests.support import API_KEY, assert_error, client_for, make_app, start, webhook


@pytest.fixture(autouse=True)
def short_streams(monkeypatch):
    """Streams end after a few seconds here, so a stream that wrongly stays open fails its test, not hangs."""
    monkeypatch.setattr(_actions, "STREAM_LIFETIME", 5)


def tool_call(call_id: str, name: str, arguments: dict, *, tool_call_id: str = "tc_1") -> dict:
    return {
        "message": {
            "type": "tool-calls",
            "call": {"id": call_id, "type": "web_call", "status": "in-progress"},
            "assistant": {"metadata": {"user_id": "alice", "context": {"page": "/shop"}}},
            "tool_call_list": [
                {"id": tool_call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            ],
        }
    }


def ended(call_id: str) -> dict:
    return {
        "message": {
            "type": "end-of-call-report",
            "call": {"id": call_id, "type": "web_call", "status": "ended"},
            "duration_seconds": 12,
            "summary": "",
        }
    }


def sse(response) -> list[tuple[str | None, str, str]]:
    """``(id, event, data)`` of every event in a finished stream."""
    events = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "event" in fields:
            events.append((fields.get("id"), fields["event"], fields.get("data", "")))
    return events


def nothing_but_the_end(app, client, call) -> bool:
    """The call's stream, opened now and read once the call ended, carried no action."""
    opened = client.get(call["actions_url"], buffered=False)
    webhook(app, ended(call["call_id"]))
    return [kind for _, kind, _ in sse(opened)] == ["end"]


@pytest.fixture
def shop(hms):
    app, webcall = make_app(HMS_MAX_CALLS_PER_USER=5)
    seen: list[PageActionCall] = []

    @webcall.page_action("show_order")
    def show_order(call: PageActionCall):
        seen.append(call)
        order = str(call.arguments.get("order_id", ""))
        if order == "none":
            return "Nothing to show.", None
        if order == "huge":
            return "Shown.", {"blob": "x" * 10_000}
        if order == "code":
            return "Shown.", {"fn": object()}
        if order == "boom":
            raise RuntimeError("the shop is down")
        return f"Order {order} is on the screen.", {"order_id": order}

    return app, webcall, seen


def test_a_page_action_answers_the_assistant_and_reaches_the_callers_stream(shop):
    app, _, seen = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    assert call["actions_url"] == f"/hms/web-calls/{call['call_id']}/actions"  # a member: no token

    reply = webhook(app, tool_call(call["call_id"], "show_order", {"order_id": "123"}))
    assert reply.json == {"results": [{"tool_call_id": "tc_1", "result": "Order 123 is on the screen."}]}
    [received] = seen
    assert (received.name, received.tool_call_id, received.call_id) == ("show_order", "tc_1", call["call_id"])
    assert received.arguments == {"order_id": "123"}
    assert received.metadata["context"] == {"page": "/shop"}

    # Opened now, read once the call ended: the stream then ends, and the test client reads it whole.
    response = alice.get(call["actions_url"], buffered=False)
    webhook(app, ended(call["call_id"]))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "no-store" in response.headers["Cache-Control"]
    events = sse(response)
    assert [(e, json.loads(d)) for _, e, d in events] == [
        ("action", {"name": "show_order", "callId": call["call_id"], "args": {"order_id": "123"}}),
        ("end", {}),
    ]


def test_an_anonymous_caller_reads_with_the_token_of_their_create_and_nobody_else_can(shop):
    app, _, _ = shop
    visitor = client_for(app, ip="198.51.100.1")
    call = start(visitor).json
    url = call["actions_url"]
    path, _, token = url.partition("?token=")
    assert token and token != call["feedback_token"]  # a leaked stream address cannot rate the call
    webhook(app, tool_call(call["call_id"], "show_order", {"order_id": "7"}))
    # The token works from another address (a phone moving networks).
    response = client_for(app, ip="203.0.113.50").get(url, buffered=False)
    assert response.status_code == 200
    webhook(app, ended(call["call_id"]))
    assert [e for _, e, _ in sse(response)] == ["action", "end"]

    # Checked after the end: the creator would now get 410, everyone else still 403.
    assert_error(client_for(app, ip="198.51.100.1").get(path), 403, "forbidden")  # same network, no token
    assert_error(visitor.get(f"{path}?token={'A' * 43}"), 403, "forbidden")
    assert_error(visitor.get(f"{path}?token={call['feedback_token']}"), 403, "forbidden")
    other = start(client_for(app, ip="198.51.100.2")).json
    assert_error(visitor.get(f"/hms/web-calls/{other['call_id']}/actions?token={token}"), 403, "forbidden")
    assert_error(client_for(app, "mallory").get(url), 403, "forbidden")  # a member is not the visitor
    assert_error(visitor.get(url), 410, "call_ended")


def test_another_members_call_and_an_unknown_call_are_refused_alike(shop):
    app, _, _ = shop
    call = start(client_for(app, "alice")).json
    webhook(app, ended(call["call_id"]))  # so that a wrongly opened stream would end, not hang the test
    bob = client_for(app, "bob")
    assert_error(bob.get(call["actions_url"]), 403, "forbidden")
    assert_error(bob.get("/hms/web-calls/no-such-call/actions"), 403, "forbidden")


def test_a_members_call_never_yields_to_a_creator_token(shop):
    app, _, _ = shop
    call = start(client_for(app, "alice")).json
    webhook(app, ended(call["call_id"]))  # so that a wrongly opened stream would end, not hang the test
    # The very token an anonymous creator of this call would hold: still not Alice (she would get 410).
    token = _actions.actions_token(app.extensions["hms_webcall"], call["call_id"])
    assert_error(client_for(app).get(f"{call['actions_url']}?token={token}"), 403, "forbidden")


def test_a_stream_opened_after_the_call_ended_is_gone_with_json(shop):
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    webhook(app, ended(call["call_id"]))
    assert_error(alice.get(call["actions_url"]), 410, "call_ended")


def test_a_reconnect_with_last_event_id_gets_only_what_it_missed(shop):
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    for order in ("1", "2", "3"):
        webhook(
            app, tool_call(call["call_id"], "show_order", {"order_id": order}, tool_call_id=f"tc_{order}")
        )
    opened = alice.get(call["actions_url"], buffered=False)
    webhook(app, ended(call["call_id"]))
    first = sse(opened)
    ids = [event_id for event_id, kind, _ in first if kind == "action"]
    assert len(ids) == 3
    again = sse(alice.get(call["actions_url"], headers={"Last-Event-ID": ids[0]}))
    assert [json.loads(d)["args"]["order_id"] for _, e, d in again if e == "action"] == ["2", "3"]
    assert again[-1][1] == "end"
    assert_error(
        alice.get(call["actions_url"], headers={"Last-Event-ID": "<script>"}), 400, "invalid_request"
    )


def test_an_open_stream_gets_an_action_published_while_it_waits(shop):
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    response = alice.get(call["actions_url"], buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.extend(chunks), daemon=True)
    reader.start()
    webhook(app, tool_call(call["call_id"], "show_order", {"order_id": "9"}))
    webhook(app, ended(call["call_id"]))
    reader.join(10)
    assert not reader.is_alive()
    text = b"".join(received).decode()
    assert '"order_id":"9"' in text and text.endswith("event: end\ndata: {}\n\n")
    response.close()


def test_a_call_holds_at_most_two_streams_in_a_worker_and_the_oldest_gives_way(shop):
    """A browser needs one stream (two while it reconnects); opening more cannot hold a thread each."""
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    streams = []
    for _ in range(3):
        response = alice.get(call["actions_url"], buffered=False)
        chunks = iter(response.response)
        assert next(chunks).startswith(b"retry:")
        streams.append((response, chunks))
    open_streams = app.extensions["hms_webcall"].streams
    assert open_streams.count(call["call_id"]) == 2
    webhook(app, tool_call(call["call_id"], "show_order", {"order_id": "9"}))
    assert b"".join(streams[0][1]) == b""  # the oldest ended without it: its browser would reconnect
    webhook(app, ended(call["call_id"]))
    for response, chunks in streams[1:]:
        text = b"".join(chunks).decode()
        assert '"order_id":"9"' in text and text.endswith("event: end\ndata: {}\n\n")
        response.close()
    streams[0][0].close()
    assert open_streams.count(call["call_id"]) == 0


@pytest.mark.parametrize(
    ("order", "problem"),
    [("huge", "HMS_PAGE_ACTION_MAX_BYTES"), ("code", "not plain data"), ("boom", "failed")],
)
def test_a_bad_action_is_not_sent_and_the_assistant_hears_it_failed(shop, caplog, order, problem):
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    with caplog.at_level(logging.ERROR, logger="flask_hms_webcall"):
        reply = webhook(app, tool_call(call["call_id"], "show_order", {"order_id": order}))
    assert reply.status_code == 200
    assert reply.json["results"][0]["result"] == "Error: the page action 'show_order' failed."
    assert problem in caplog.text
    assert nothing_but_the_end(app, alice, call)


def test_an_action_of_none_only_answers_the_assistant(shop):
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    reply = webhook(app, tool_call(call["call_id"], "show_order", {"order_id": "none"}))
    assert reply.json["results"][0]["result"] == "Nothing to show."
    assert nothing_but_the_end(app, alice, call)


def test_an_unregistered_tool_is_answered_as_before_and_reaches_no_page(shop):
    app, _, _ = shop
    alice = client_for(app, "alice")
    call = start(alice).json
    reply = webhook(app, tool_call(call["call_id"], "open_admin", {}))
    assert reply.json["results"][0]["result"] == "Error: the tool 'open_admin' is not available."
    assert nothing_but_the_end(app, alice, call)


def test_a_site_without_page_actions_gives_no_stream_address(hms):
    app, _ = make_app()
    assert "actions_url" not in start(client_for(app, "alice")).json


def test_page_action_names_are_checked_when_registered(hms):
    _, webcall = make_app()

    @webcall.tool("lookup_order")
    def lookup(arguments, event):
        return "ok"

    with pytest.raises(ValueError, match="already a @webcall.tool"):
        webcall.page_action("lookup_order")
    for bad in ("", "has space", "x" * 65, None):
        with pytest.raises(ValueError, match="page action name"):
            webcall.page_action(bad)  # type: ignore[arg-type]

    @webcall.page_action("show_order")
    def show(call):
        return "ok", None

    with pytest.raises(ValueError, match="already a page action"):
        webcall.tool("show_order")


@pytest.mark.parametrize("value", [100, 100_000, "lots"])
def test_the_size_cap_is_checked_at_init(value):
    from flask_hms_webcall import ConfigurationError, HMSWebCall
    from tests.support import configured_app

    with pytest.raises(ConfigurationError, match="HMS_PAGE_ACTION_MAX_BYTES"):
        HMSWebCall(configured_app(HMS_PAGE_ACTION_MAX_BYTES=value))


def test_the_token_never_reaches_the_extensions_log(shop, caplog):
    app, _, _ = shop
    visitor = client_for(app, ip="198.51.100.1")
    call = start(visitor).json
    with caplog.at_level(logging.DEBUG):
        webhook(app, tool_call(call["call_id"], "show_order", {"order_id": "huge"}))
        nothing_but_the_end(app, visitor, call)
    token = call["actions_url"].partition("?token=")[2]
    assert token not in caplog.text and API_KEY not in caplog.text


# ------------------------------------------------------------------------------------- the stores


def check_action_log(store) -> None:
    assert store.read_actions("c1", None, timeout=0).events == ()
    first = store.publish_action("c1", '{"n":1}', ttl=60)
    second = store.publish_action("c1", '{"n":2}', ttl=60)
    store.publish_action("c2", '{"other":true}', ttl=60)
    batch = store.read_actions("c1", None, timeout=0)
    assert batch.events == ((first, '{"n":1}'), (second, '{"n":2}')) and not batch.ended
    assert store.read_actions("c1", first, timeout=0).events == ((second, '{"n":2}'),)
    # A reader waiting for the next action is woken by it, long before its wait would be over.
    got = []
    reader = threading.Thread(target=lambda: got.append(store.read_actions("c1", second, timeout=60)))
    reader.start()
    third = store.publish_action("c1", '{"n":3}', ttl=60)
    reader.join(20)
    assert got and got[0].events == ((third, '{"n":3}'),)
    store.end_actions("c1", ttl=60)
    end = store.read_actions("c1", second, timeout=5)
    assert end.events == ((third, '{"n":3}'),) and end.ended
    assert store.read_actions("c2", None, timeout=0).events[0][1] == '{"other":true}'


def test_the_memory_store_keeps_an_action_log_per_call():
    check_action_log(MemoryCallStore())


def test_the_redis_store_keeps_an_action_log_per_call(redis_url):
    store = RedisCallStore.from_url(redis_url)
    check_action_log(store)
    import redis

    keys = redis.Redis.from_url(redis_url).keys("*actions*")
    assert sorted(keys) == [b"{hms_webcall}:actions:c1", b"{hms_webcall}:actions:c2"]
    assert all(0 < redis.Redis.from_url(redis_url).pttl(key) <= 60_000 for key in keys)


def test_two_workers_on_one_redis_pass_an_action_between_them(redis_url, hms):
    webhook_worker, webcall = make_app(HMS_STORAGE_URI=redis_url)
    stream_worker, other = make_app(HMS_STORAGE_URI=redis_url)
    for extension in (webcall, other):

        @extension.page_action("show_order")
        def show(call):
            return "ok", {"order_id": call.arguments["order_id"]}

    alice_on_stream = client_for(stream_worker, "alice")
    call = start(alice_on_stream).json
    opened = alice_on_stream.get(call["actions_url"], buffered=False)
    webhook(webhook_worker, tool_call(call["call_id"], "show_order", {"order_id": "5"}))
    webhook(webhook_worker, ended(call["call_id"]))
    events = sse(opened)
    assert [json.loads(d)["args"] for _, e, d in events if e == "action"] == [{"order_id": "5"}]
