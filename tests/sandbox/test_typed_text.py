"""Typed text in a call, from a client nobody here wrote: the official LiveKit Python SDK.

``room.local_participant.send_text(text, topic="lk.chat")`` is how LiveKit Agents take typed input. The
sandbox treats it as a final spoken turn: rules, tools, the transcript and the end-of-call report, and it
cuts the assistant short when it types over it. The typed line is published on ``lk.transcription`` as the
visitor's final segment, like speech, so that every client in the room shows it.

libwebrtc (inside the SDK) gathers no ICE candidate on ``lo``: the test adds a veth pair inside its private
network namespace (``tests/isolated.sh``) and the sandbox takes host candidates on it, so nothing leaves the
namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from livekit.protocol import models

from flask_hms_webcall.sandbox import SandboxConfig, create_app
from flask_hms_webcall.sandbox.config import DEFAULT_FIRST_MESSAGE
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.assistant import CLOSING_SILENCE_SECONDS
from flask_hms_webcall.sandbox.media.chat import MAX_CHAT_BYTES, MAX_CHAT_CHARS, STREAM_SECONDS, ChatReceiver
from flask_hms_webcall.sandbox.media.turns import TYPED_BACKLOG, TurnInbox
from tests.conftest import free_port, require
from tests.livekit_visitor import reachable_network
from tests.sandbox.test_media_protocol import API_KEY, run

try:
    from livekit import rtc
except ImportError:  # a skip, or a failure under HMS_TEST_STRICT=1 (see the veth fixture)
    rtc = None

TIMEOUT = 30.0  # generous: two busy cores
QUESTION = "Where is my order 123?"
ANSWER = "Order 123 is shipped."


@pytest.fixture(scope="module")
def veth() -> None:
    """A non-loopback interface for libwebrtc, in this test's own network namespace (never the machine's)."""
    require(rtc is not None, "the LiveKit Python SDK is not installed (pip install -e .[dev])")
    require(reachable_network(), "needs its own network namespace: run it through tests/isolated.sh as root")


@pytest.fixture
def speech() -> None:
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")


class Visit:
    """The app (tools and webhooks), the sandbox, and one visitor in a call, seen through the SDK."""

    def __init__(self, http: aiohttp.ClientSession, sandbox: TestServer) -> None:
        self.http = http
        self.sandbox = sandbox
        self.room = rtc.Room()
        self.lines: list[tuple[str, dict[str, str], str]] = []  # (identity, attributes, text) per stream
        self.deliveries: list[dict[str, Any]] = []
        self.call: dict[str, Any] = {}

    def on_transcription(self, reader: Any, identity: str) -> None:
        async def read() -> None:
            text = await reader.read_all()
            self.lines.append((identity, dict(reader.info.attributes), text))

        asyncio.ensure_future(read())

    def assistant_lines(self) -> list[str]:
        agent = self.agent_identity()
        return [
            text
            for who, attributes, text in self.lines
            if who == agent and attributes.get("lk.transcription_final") == "true"
        ]

    def agent_identity(self) -> str:
        return next(iter(self.room.remote_participants))

    def agent_state(self) -> str | None:
        return next(iter(self.room.remote_participants.values())).attributes.get("lk.agent.state")

    async def join(self) -> None:
        async with self.http.post(
            str(self.sandbox.make_url("/v1/web-calls")),
            json={"assistant_id": self.sandbox.app["config"].assistant_id},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response:
            self.call = await response.json()
        self.room.register_text_stream_handler("lk.transcription", self.on_transcription)
        await self.room.connect(self.call["server_url"], self.call["token"])

    async def until(self, predicate: Any, what: str) -> Any:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not (value := predicate()):
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"never: {what}; transcription streams: {self.lines}")
            await asyncio.sleep(0.05)
        return value

    def report(self) -> dict[str, Any] | None:
        reports = [d for d in self.deliveries if d["message"]["type"] == "end-of-call-report"]
        return reports[0]["message"] if reports else None


@contextlib.asynccontextmanager
async def visit() -> AsyncIterator[Visit]:
    deliveries: list[dict[str, Any]] = []

    async def app_webhook(request: web.Request) -> web.Response:
        body = await request.json()
        deliveries.append(body)
        if body["message"]["type"] != "tool-calls":
            return web.json_response({})
        [item] = body["message"]["tool_call_list"]
        return web.json_response({"results": [{"tool_call_id": item["id"], "result": {"status": "shipped"}}]})

    app = web.Application()
    app.router.add_post("/hms/webhooks", app_webhook)
    app_server = TestServer(app, host="127.0.0.1", port=free_port())
    await app_server.start_server()
    port = free_port()
    config = SandboxConfig(port=port, webhook_url=f"http://127.0.0.1:{app_server.port}/hms/webhooks")
    sandbox = TestServer(create_app(config), host="127.0.0.1", port=port)
    await sandbox.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            visitor = Visit(http, sandbox)
            visitor.deliveries = deliveries
            await visitor.join()
            try:
                yield visitor
            finally:
                await visitor.room.disconnect()
    finally:
        await sandbox.close()
        await app_server.close()


def test_a_typed_order_question_is_answered_with_the_tool_and_reported(veth, speech):
    async def scenario() -> None:
        async with visit() as visitor:
            await visitor.until(lambda: DEFAULT_FIRST_MESSAGE in visitor.assistant_lines(), "the greeting")
            await visitor.until(lambda: visitor.agent_state() == "listening", "listening after the greeting")

            await visitor.room.local_participant.send_text(QUESTION, topic="lk.chat")
            await visitor.until(lambda: ANSWER in visitor.assistant_lines(), "the tool's answer, spoken")
            [tool_call] = [d["message"] for d in visitor.deliveries if d["message"]["type"] == "tool-calls"]
            assert tool_call["tool_call_list"][0]["function"] == {
                "name": "lookup_order",
                "arguments": {"order_id": "123"},
            }
            # The typed line comes back once, as the visitor's final segment, like a spoken turn.
            mine = [
                (a.get("lk.transcription_final"), text)
                for who, a, text in visitor.lines
                if who != visitor.agent_identity()
            ]
            assert mine == [("true", QUESTION)], visitor.lines

            await visitor.room.disconnect()
            report = await visitor.until(visitor.report, "the end-of-call report")
            spoken = [(m["role"], m.get("content")) for m in report["messages"] if not m.get("tool_calls")]
            assert ("user", QUESTION) in spoken, report["messages"]
            assert spoken.index(("user", QUESTION)) < spoken.index(("assistant", ANSWER))
            assert any(m.get("tool_calls") for m in report["messages"])

    run(scenario())


def test_a_visitor_who_says_nothing_after_anything_else_is_said_goodbye_to(veth, speech):
    async def scenario() -> None:
        async with visit() as visitor:
            await visitor.until(lambda: visitor.agent_state() == "listening", "listening after the greeting")
            # A goodbye at the end of a sentence about something else: checked, never hung up on at once.
            await visitor.room.local_participant.send_text("The weather is nice, bye.", topic="lk.chat")
            await visitor.until(
                lambda: "Anything else I can help with?" in visitor.assistant_lines(), "the closing check"
            )
            checked = asyncio.get_running_loop().time()
            # The visitor says nothing more: after a few seconds the assistant says goodbye and hangs up.
            goodbye = "Thanks for calling. Goodbye!"
            await visitor.until(lambda: visitor.assistant_lines()[-1] == goodbye, "the assistant's goodbye")
            waited = asyncio.get_running_loop().time() - checked
            assert waited >= CLOSING_SILENCE_SECONDS - 1, waited  # not at once: the visitor had time
            report = await visitor.until(visitor.report, "the end-of-call report")
            assert report["endedReason"] == "agent_hangup", report

    run(scenario())


def test_typing_while_the_assistant_speaks_cuts_it_short(veth, speech):
    async def scenario() -> None:
        async with visit() as visitor:
            await visitor.until(lambda: visitor.agent_state() == "speaking", "the greeting begins")
            await asyncio.sleep(0.8)  # a word or two into the greeting
            await visitor.room.local_participant.send_text("Are you a human?", topic="lk.chat")
            [greeting] = await visitor.until(visitor.assistant_lines, "the greeting's final transcript")
            # The greeting stops where the text cut in: its final transcript holds only the words played.
            assert greeting != DEFAULT_FIRST_MESSAGE and DEFAULT_FIRST_MESSAGE.startswith(greeting.strip())
            await visitor.until(
                lambda: any(
                    "sandbox assistant, there is nobody else" in t for t in visitor.assistant_lines()
                ),
                "the answer to the typed question",
            )
            await visitor.room.disconnect()
            report = await visitor.until(visitor.report, "the end-of-call report")
            said = [m["content"] for m in report["messages"] if m["role"] == "assistant" and m.get("content")]
            assert said[0] == greeting.strip(), said

    run(scenario())


def test_hostile_typing_is_dropped_and_the_call_goes_on(veth, speech):
    async def scenario() -> None:
        async with visit() as visitor:
            await visitor.until(lambda: visitor.agent_state() == "listening", "listening after the greeting")
            participant = visitor.room.local_participant
            await participant.send_text("order 123 " * 500, topic="lk.chat")  # 5000 characters: above the cap
            await participant.send_text("\u0000\u0007   ", topic="lk.chat")  # nothing printable
            writer = await participant.stream_text(topic="lk.chat")  # a stream never closed
            await writer.write("order 456")
            await asyncio.sleep(1.0)
            assert visitor.agent_state() == "listening"
            assert not [d for d in visitor.deliveries if d["message"]["type"] == "tool-calls"]

            await participant.send_text(QUESTION, topic="lk.chat")
            await visitor.until(
                lambda: ANSWER in visitor.assistant_lines(), "the answer to a proper question"
            )
            await visitor.room.disconnect()
            report = await visitor.until(visitor.report, "the end-of-call report")
            typed = [m["content"] for m in report["messages"] if m["role"] == "user"]
            assert typed == [QUESTION], json.dumps(report["messages"])

    run(scenario())


# --- what a hostile browser may send on its data channel, without a network ---------------------------


def stream(text: bytes, *, stream_id: str = "s1", topic: str = "lk.chat", chunk: int = 3) -> list[bytes]:
    """A text stream as livekit-client frames it: header, chunks, trailer."""
    header = models.DataStream.Header(
        stream_id=stream_id,
        topic=topic,
        mime_type="text/plain",
        total_length=len(text),
        text_header=models.DataStream.TextHeader(operation_type=models.DataStream.OperationType.CREATE),
    )
    packets = [models.DataPacket(participant_identity="web-user", stream_header=header)]
    for index, start in enumerate(range(0, len(text), chunk)):
        content = text[start : start + chunk]
        packets.append(
            models.DataPacket(
                stream_chunk=models.DataStream.Chunk(stream_id=stream_id, chunk_index=index, content=content)
            )
        )
    packets.append(models.DataPacket(stream_trailer=models.DataStream.Trailer(stream_id=stream_id)))
    return [p.SerializeToString() for p in packets]


def received(*packets: bytes | str) -> list[str]:
    texts: list[str] = []
    receiver = ChatReceiver(texts.append, agent_identity="agent-1")
    for packet in packets:
        receiver.feed(packet)
    return texts


def test_a_typed_message_is_reassembled_from_its_chunks_and_cleaned():
    assert received(*stream("  Where is\tmy order\n123? ✓ ".encode())) == ["Where is my order 123? ✓"]


def test_messages_above_the_cap_are_dropped_whole_not_cut():
    at_cap = "a" * MAX_CHAT_CHARS
    assert received(*stream(at_cap.encode(), chunk=700)) == [at_cap]
    assert received(*stream((at_cap + "a").encode(), chunk=700)) == []
    # A header that understates its length does not get more through.
    lying = stream(("é" * MAX_CHAT_BYTES).encode(), chunk=1000)
    header = models.DataPacket.FromString(lying[0])
    header.stream_header.total_length = 10
    assert received(header.SerializeToString(), *lying[1:]) == []


def test_text_that_is_not_utf8_or_not_printable_is_dropped():
    assert received(*stream(b"order \xff\xfe 123")) == []
    assert received(*stream("\u0000\u0007 \u200b".encode())) == []  # no turn of control codes
    assert received(*stream(b"\x00\x01\x02")) == []


def test_garbage_other_topics_and_other_addressees_are_ignored():
    assert received(b"\x00garbage\xff", "a text message", b"\x12" * 70000) == []
    assert received(*stream(b"hello", topic="lk.transcription")) == []
    aside = stream(b"hello")
    header = models.DataPacket.FromString(aside[0])
    header.destination_identities.append("someone-else")
    assert received(header.SerializeToString(), *aside[1:]) == []
    header.destination_identities.append("agent-1")
    assert received(header.SerializeToString(), *aside[1:]) == ["hello"]


def test_a_compressed_bomb_is_dropped():
    bomb = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    content = bomb.compress(b"a" * 10_000_000) + bomb.flush()
    header = models.DataStream.Header(
        stream_id="s1",
        topic="lk.chat",
        total_length=10,
        inline_content=content,
        compression=models.DataStream.CompressionType.DEFLATE_RAW,
        text_header=models.DataStream.TextHeader(),
    )
    assert received(models.DataPacket(stream_header=header).SerializeToString()) == []
    small = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    header.inline_content = small.compress(b"order 123") + small.flush()
    assert received(models.DataPacket(stream_header=header).SerializeToString()) == ["order 123"]


def test_streams_never_closed_are_bounded_and_forgotten(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("flask_hms_webcall.sandbox.media.chat.time.monotonic", lambda: clock[0])
    texts: list[str] = []
    receiver = ChatReceiver(texts.append, agent_identity="agent-1")
    for n in range(50):  # 50 headers, no trailer: at most MAX_OPEN_STREAMS are kept
        receiver.feed(stream(b"x", stream_id=f"open-{n}")[0])
    for packet in stream(b"late", stream_id="late"):
        receiver.feed(packet)
    assert texts == []  # no room for it while the stale ones are young
    clock[0] += STREAM_SECONDS + 1
    for packet in stream(b"fresh", stream_id="fresh"):
        receiver.feed(packet)
    assert texts == ["fresh"]


def test_a_flood_of_typed_messages_waits_at_most_the_backlog():
    async def scenario() -> list[str]:
        inbox = TurnInbox()
        accepted = [inbox.typed(f"message {n}") for n in range(100)]
        assert accepted.count(True) == TYPED_BACKLOG
        return [str(await inbox.next()) for _ in range(TYPED_BACKLOG)]

    assert run(scenario()) == ["message 0", "message 1", "message 2"]
