"""Page tools: @webcall.page_tool, the request that goes to the caller's page over its action stream, the
page's answer (``POST {prefix}/web-calls/<id>/tools/<request>``) and the tool-calls reply made of it, in one
process (memory) and across workers sharing Redis."""

from __future__ import annotations

import json
import threading

import pytest
from marshmallow import Schema, fields

from flask_hms_webcall import _actions
from flask_hms_webcall._page_tools import MAX_WAITING_PER_CALL
from flask_hms_webcall.store import MemoryCallStore, RedisCallStore
from tests.support import assert_error, client_for, make_app, start, webhook
from tests.test_page_actions import ended, tool_call


@pytest.fixture(autouse=True)
def short_streams(monkeypatch):
    monkeypatch.setattr(_actions, "STREAM_LIFETIME", 5)


class Item(Schema):
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)


class Cart(Schema):
    items = fields.List(fields.Nested(Item), required=True)


def with_cart_tool(webcall, seen: list, timeout: float = 4) -> None:
    @webcall.page_tool("cart_contents", schema=Cart, timeout=timeout)
    def cart_contents(call, answer):
        seen.append((call, answer))
        return ", ".join(f"{i['quantity']} {i['name']}" for i in answer["items"]) or "The basket is empty."


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    return "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")


def shop(storage: str, timeout: float = 4):
    app, webcall = make_app(HMS_STORAGE_URI=storage, HMS_MAX_CALLS_PER_USER=5)
    seen: list = []
    with_cart_tool(webcall, seen, timeout)
    return app, seen


class Delivery:
    """A tool-calls delivery running in its own thread, as HMS waits on it."""

    def __init__(self, app, payload: dict) -> None:
        self.reply = None
        self.thread = threading.Thread(target=self._run, args=(app, payload))
        self.thread.start()

    def _run(self, app, payload) -> None:
        self.reply = webhook(app, payload)

    def results(self) -> list[str]:
        self.thread.join(20)
        assert self.reply is not None and self.reply.status_code == 200
        return [r["result"] for r in self.reply.json["results"]]


def requests_on(stream, count: int = 1) -> list[dict]:
    """The first ``count`` page tool requests of an open stream, read as they come."""
    found: list[dict] = []
    for chunk in stream.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if "event: tool" in text:
            data = next(line for line in text.splitlines() if line.startswith("data: "))
            found.append(json.loads(data[len("data: ") :]))
            if len(found) == count:
                return found
    raise AssertionError("the stream ended without a page tool request")


def answer(client, request: dict, body, headers=None):
    return client.post(request["answerUrl"], json=body, headers=headers or {})


CART = {"items": [{"name": "teapot", "quantity": 2, "price": 30}], "note": "not asked for"}


def test_the_page_answers_and_the_assistant_hears_the_answer_through_the_owners_function(storage, hms):
    app, seen = shop(storage)
    alice = client_for(app, "alice")
    call = start(alice).json
    stream = alice.get(call["actions_url"], buffered=False)
    delivery = Delivery(app, tool_call(call["call_id"], "cart_contents", {"detail": "all"}))
    [request] = requests_on(stream)
    assert request["name"] == "cart_contents" and request["args"] == {"detail": "all"}
    assert request["callId"] == call["call_id"] and request["timeout"] == 4000
    assert request["answerUrl"] == f"/hms/web-calls/{call['call_id']}/tools/{request['request']}"
    assert answer(alice, request, {"answer": CART}).status_code == 204
    assert delivery.results() == ["2 teapot"]
    [(typed, data)] = seen
    assert typed.tool_call_id == "tc_1" and typed.arguments == {"detail": "all"}
    assert data == {"items": [{"name": "teapot", "quantity": 2}]}  # the schema's fields only
    # Answered twice: the second finds nothing waiting.
    assert_error(answer(alice, request, {"answer": CART}), 409, "not_waiting")
    webhook(app, ended(call["call_id"]))


def test_a_page_that_does_not_answer_gives_the_assistant_the_timeout_result(storage, hms):
    app, seen = shop(storage, timeout=0.5)
    alice = client_for(app, "alice")
    call = start(alice).json
    stream = alice.get(call["actions_url"], buffered=False)
    delivery = Delivery(app, tool_call(call["call_id"], "cart_contents", {}))
    [request] = requests_on(stream)
    assert delivery.results() == ["Error: The page did not answer 'cart_contents' in time."]
    # Too late: nothing waits any more, and the owner's function never ran.
    assert_error(answer(alice, request, {"answer": CART}), 409, "not_waiting")
    assert seen == []
    webhook(app, ended(call["call_id"]))


def test_an_answer_the_schema_refuses_is_refused_to_the_page_and_the_assistant(storage, hms):
    app, seen = shop(storage)
    alice = client_for(app, "alice")
    call = start(alice).json
    stream = alice.get(call["actions_url"], buffered=False)
    delivery = Delivery(app, tool_call(call["call_id"], "cart_contents", {}))
    [request] = requests_on(stream)
    assert_error(answer(alice, request, {"answer": {"items": "all of them"}}), 400, "invalid_request")
    assert delivery.results() == ["Error: The page's answer to 'cart_contents' was refused."]
    assert seen == []
    webhook(app, ended(call["call_id"]))


def test_a_page_whose_handler_failed_says_so_at_once(hms):
    app, _ = shop("memory://")
    alice = client_for(app, "alice")
    call = start(alice).json
    stream = alice.get(call["actions_url"], buffered=False)
    delivery = Delivery(app, tool_call(call["call_id"], "cart_contents", {}))
    [request] = requests_on(stream)
    assert answer(alice, request, {"failed": True}).status_code == 204
    assert delivery.results() == ["Error: The page could not answer 'cart_contents'."]
    webhook(app, ended(call["call_id"]))


def test_nobody_else_can_answer_for_the_caller(hms):
    app, _ = shop("memory://", timeout=1)
    alice, bob = client_for(app, "alice"), client_for(app, "bob")
    visitor = client_for(app, ip="198.51.100.1")
    call = start(alice).json
    bobs = start(bob).json
    anonymous = start(visitor).json
    stream = alice.get(call["actions_url"], buffered=False)
    delivery = Delivery(app, tool_call(call["call_id"], "cart_contents", {}))
    [request] = requests_on(stream)
    # Another member, an anonymous visitor with their own call's token: refused as at the stream.
    assert_error(answer(bob, request, {"answer": CART}), 403, "forbidden")
    token = anonymous["actions_url"].partition("?token=")[2]
    headers = {"X-HMS-Actions-Token": token}
    assert_error(answer(visitor, request, {"answer": CART}, headers), 403, "forbidden")
    # Bob answering Alice's request under his own call: nothing of his call waits for it.
    elsewhere = request["answerUrl"].replace(call["call_id"], bobs["call_id"])
    assert_error(bob.post(elsewhere, json={"answer": CART}), 409, "not_waiting")
    # A made-up request id of the right shape finds nothing either.
    made_up = request["answerUrl"].rpartition(".")[0] + ".A" * 1 + "x" * 23
    assert_error(alice.post(made_up, json={"answer": CART}), 409, "not_waiting")
    assert delivery.results() == ["Error: The page did not answer 'cart_contents' in time."]
    for c in (call, bobs, anonymous):
        webhook(app, ended(c["call_id"]))


def test_an_anonymous_caller_answers_with_the_token_of_their_create(hms):
    app, _ = shop("memory://")
    visitor = client_for(app, ip="198.51.100.1")
    call = start(visitor).json
    token = call["actions_url"].partition("?token=")[2]
    stream = visitor.get(call["actions_url"], buffered=False)
    delivery = Delivery(app, tool_call(call["call_id"], "cart_contents", {}))
    [request] = requests_on(stream)
    assert_error(answer(visitor, request, {"answer": CART}), 403, "forbidden")  # no token
    assert answer(visitor, request, {"answer": CART}, {"X-HMS-Actions-Token": token}).status_code == 204
    assert delivery.results() == ["2 teapot"]
    webhook(app, ended(call["call_id"]))


def test_requests_waiting_for_one_call_are_bounded(storage, hms):
    app, _ = shop(storage, timeout=0.5)
    alice = client_for(app, "alice")
    call = start(alice).json
    payload = tool_call(call["call_id"], "cart_contents", {})
    many = [
        dict(payload["message"]["tool_call_list"][0], id=f"tc_{n}") for n in range(MAX_WAITING_PER_CALL + 1)
    ]
    payload["message"]["tool_call_list"] = many
    results = webhook(app, payload).json["results"]
    timeout = "Error: The page did not answer 'cart_contents' in time."
    assert [r["result"] == timeout for r in results] == [True] * MAX_WAITING_PER_CALL + [False]
    assert "busy" in results[-1]["result"]
    webhook(app, ended(call["call_id"]))


def test_delivery_stream_and_answer_on_three_workers_sharing_redis(redis_url, hms):
    workers = []
    for _ in range(3):
        app, webcall = make_app(HMS_STORAGE_URI=redis_url)
        with_cart_tool(webcall, [])
        workers.append(app)
    delivery_worker, stream_worker, answer_worker = workers
    alice_on_stream = client_for(stream_worker, "alice")
    call = start(alice_on_stream).json
    stream = alice_on_stream.get(call["actions_url"], buffered=False)
    delivery = Delivery(delivery_worker, tool_call(call["call_id"], "cart_contents", {}))
    [request] = requests_on(stream)
    alice_on_answer = client_for(answer_worker, "alice")
    assert answer(alice_on_answer, request, {"answer": CART}).status_code == 204
    assert delivery.results() == ["2 teapot"]
    webhook(delivery_worker, ended(call["call_id"]))


def test_page_tools_are_checked_when_registered(hms):
    _, webcall = make_app()
    with pytest.raises(ValueError, match="0.5-8.0 seconds"):
        webcall.page_tool("slow", schema=Cart, timeout=10)
    with pytest.raises(TypeError, match="marshmallow Schema"):
        webcall.page_tool("loose", schema=dict)
    with pytest.raises(TypeError):
        webcall.page_tool("no_schema")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="1-64 letters"):
        webcall.page_tool("bad name", schema=Cart)
    webcall.page_tool("cart", schema=Cart())(lambda call, answer: answer)
    with pytest.raises(ValueError, match="already"):
        webcall.page_action("cart")
    with pytest.raises(ValueError, match="already"):
        webcall.tool("cart")


# ------------------------------------------------------------------------------------- the stores


def check_tool_requests(store) -> None:
    assert store.open_tool_request("c1", "r1", limit=2, ttl=60)
    assert store.open_tool_request("c1", "r2", limit=2, ttl=60)
    assert not store.open_tool_request("c1", "r3", limit=2, ttl=60)  # the bound
    assert store.open_tool_request("c2", "r3", limit=2, ttl=60)  # another call's own bound
    assert not store.answer_tool_request("c2", "r1", "{}", ttl=60)  # r1 is c1's
    got = []
    waiter = threading.Thread(target=lambda: got.append(store.take_tool_answer("c1", "r1", timeout=0.9)))
    waiter.start()
    assert store.answer_tool_request("c1", "r1", '{"a":1}', ttl=60)
    assert not store.answer_tool_request("c1", "r1", '{"a":2}', ttl=60)  # once
    waiter.join(20)
    assert got == ['{"a":1}']
    assert store.take_tool_answer("c1", "r2", timeout=0.05) is None
    assert store.close_tool_request("c1", "r2") is None
    assert not store.answer_tool_request("c1", "r2", "{}", ttl=60)  # closed
    assert store.open_tool_request("c1", "r4", limit=2, ttl=60)  # r1 and r2 no longer wait


def test_the_memory_store_keeps_page_tool_requests():
    check_tool_requests(MemoryCallStore())


def test_the_redis_store_keeps_page_tool_requests(redis_url):
    check_tool_requests(RedisCallStore.from_url(redis_url))
