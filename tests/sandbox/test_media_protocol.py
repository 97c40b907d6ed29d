"""The sandbox's media face at the protocol level: LiveKit signalling over a websocket, no browser.

Each test runs the whole sandbox app in-process (``create_app`` on an aiohttp test server) and talks to it
the way livekit-client does: ``/rtc/v1?access_token=..&join_request=..`` and protobuf frames. The last tests
bring an aiortc peer connection of their own, so the media path is exercised without Chromium too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import re
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection, RTCSessionDescription
from livekit.protocol import models, rtc

from flask_hms_webcall.sandbox import SandboxConfig, create_app
from flask_hms_webcall.sandbox.media.audio import SpeechTrack, plan_speech
from flask_hms_webcall.sandbox.media.peer import new_peer_connection, use_loopback_ice
from tests.conftest import free_port

API_KEY = "sk_sandbox_local"
AGENT = models.ParticipantInfo.Kind.AGENT
TIMEOUT = 20.0  # generous: the CI machine has two busy cores


def run(coro: Any) -> Any:
    """Run a scenario on a fresh event loop in its own thread.

    Not on this thread: Playwright's sync API (the session's ``chromium`` fixture) keeps an event loop
    running here once a browser test has started.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, 120)).result()


def join_request(*, offer: str | None = None, reconnect: bool = False) -> str:
    """``join_request`` as livekit-client 2.23 builds it: base64url(WrappedJoinRequest{GZIP, JoinRequest})."""
    join = rtc.JoinRequest(
        client_info=models.ClientInfo(sdk=models.ClientInfo.SDK.JS, version="2.23.0", protocol=16),
        connection_settings=rtc.ConnectionSettings(auto_subscribe=True),
        reconnect=reconnect,
    )
    if offer is not None:
        join.publisher_offer.CopyFrom(rtc.SessionDescription(type="offer", sdp=offer, id=1))
    wrapped = rtc.WrappedJoinRequest(
        compression=rtc.WrappedJoinRequest.Compression.GZIP,
        join_request=gzip.compress(join.SerializeToString()),
    )
    return base64.urlsafe_b64encode(wrapped.SerializeToString()).decode().rstrip("=")


class Sandbox:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.server = server
        self.http = http
        self.app = server.app

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def create_call(self) -> dict[str, Any]:
        async with self.http.post(
            self.url("/v1/web-calls"),
            json={"assistant_id": self.app["config"].assistant_id},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.http.request(
            method, self.url(f"/_sandbox/{path}"), headers={"Authorization": f"Bearer {API_KEY}"}, **kwargs
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def call(self, call_id: str) -> dict[str, Any]:
        return await self.control("GET", f"calls/{call_id}")

    async def wait_for_call(self, call_id: str, predicate: Any) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while True:
            call = await self.call(call_id)
            if predicate(call):
                return call
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"call never reached the expected state: {call}")
            await asyncio.sleep(0.05)

    def rtc_params(self, token: str | None, *, path: str = "", join: str | None = None) -> dict[str, str]:
        """The query of a join; the v1 path carries a join request, as livekit-client's does."""
        params = {} if token is None else {"access_token": token}
        if join is None and path.endswith("/v1"):
            join = join_request()
        if join is not None:
            params["join_request"] = join
        return params

    async def connect(
        self, token: str | None, *, path: str = "/rtc/v1", join: str | None = None, **kwargs: Any
    ) -> aiohttp.ClientWebSocketResponse:
        return await self.http.ws_connect(
            self.url(path), params=self.rtc_params(token, path=path, join=join), autoping=True, **kwargs
        )

    async def upgrade_refusal(
        self, token: str | None, *, path: str = "/rtc/v1", join: str | None = None
    ) -> tuple[int, str]:
        """Try the websocket upgrade; return the refusal's status and body."""
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await self.connect(token, path=path, join=join)
        # The handshake error has no body: ask again with the same upgrade headers to read the text.
        headers = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode(),
        }
        async with self.http.get(
            self.url(path), params=self.rtc_params(token, path=path, join=join), headers=headers
        ) as response:
            assert response.status == refused.value.status
            return response.status, await response.text()

    async def validate(self, token: str | None, *, path: str = "/rtc/v1") -> tuple[int, str]:
        async with self.http.get(self.url(path + "/validate"), params=self.rtc_params(token)) as response:
            return response.status, await response.text()


@contextlib.asynccontextmanager
async def sandbox(**config: Any) -> AsyncIterator[Sandbox]:
    port = free_port()
    app = create_app(SandboxConfig(port=port, loopback_only=True, **config))
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Sandbox(server, http)
    finally:
        await server.close()


async def receive(ws: aiohttp.ClientWebSocketResponse) -> rtc.SignalResponse:
    message = await ws.receive(timeout=TIMEOUT)
    assert message.type == aiohttp.WSMsgType.BINARY, f"expected a signal response, got {message}"
    return rtc.SignalResponse.FromString(message.data)


async def receive_kind(ws: aiohttp.ClientWebSocketResponse, kind: str) -> Any:
    """The next signal response of ``kind``, skipping others (participant updates, ...)."""
    while True:
        response = await receive(ws)
        if response.WhichOneof("message") == kind:
            return getattr(response, kind)


async def send(ws: aiohttp.ClientWebSocketResponse, **message: Any) -> None:
    await ws.send_bytes(rtc.SignalRequest(**message).SerializeToString())


async def closed(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Drain until the server closes the socket; True when it did."""
    while True:
        message = await ws.receive(timeout=TIMEOUT)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return True


# --- who may join -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/rtc/v1", "/rtc"])
def test_a_bad_token_is_refused_before_the_upgrade_and_by_validate_with_the_same_reason(path):
    async def scenario():
        async with sandbox() as sb:
            await sb.create_call()
            for token, reason in [
                ("not-a-jwt", "invalid token: could not verify"),
                (None, "no access token"),
            ]:
                assert await sb.upgrade_refusal(token, path=path) == (401, reason)
                assert await sb.validate(token, path=path) == (401, reason)

    run(scenario())


def test_a_token_signed_with_another_key_is_refused():
    async def scenario():
        async with sandbox() as sb, sandbox() as other:
            foreign = (await other.create_call())["token"]
            assert await sb.upgrade_refusal(foreign) == (401, "invalid token: could not verify")

    run(scenario())


def test_an_expired_token_is_refused():
    async def scenario():
        async with sandbox() as sb:
            await sb.control("POST", "faults", json={"expire_next_tokens": 1})
            token = (await sb.create_call())["token"]
            expired = (401, "invalid token: token is expired")
            assert await sb.upgrade_refusal(token) == expired
            assert await sb.validate(token) == expired

    run(scenario())


def test_a_token_whose_call_has_ended_finds_no_room():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            assert await sb.validate(created["token"]) == (200, "success")
            await sb.control("POST", f"calls/{created['call_id']}/end", json={"reason": "user_hangup"})
            gone = (404, "requested room does not exist")
            assert await sb.upgrade_refusal(created["token"]) == gone
            assert await sb.validate(created["token"]) == gone

    run(scenario())


def test_the_token_may_come_as_a_bearer_header():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(None, headers={"Authorization": f"Bearer {created['token']}"})
            assert (await receive(ws)).WhichOneof("message") == "join"
            await ws.close()

    run(scenario())


def test_one_browser_per_room():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            first = await sb.connect(created["token"])
            await receive_kind(first, "join")
            taken = (403, "participant is already in the room")
            assert await sb.upgrade_refusal(created["token"]) == taken
            assert await sb.validate(created["token"]) == taken
            await first.close()

    run(scenario())


# --- the session ----------------------------------------------------------------------------------------


def test_a_join_without_offer_gets_the_room_with_the_assistant_in_it_and_pongs():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            join = await receive_kind(ws, "join")

            assert join.server_info.version
            assert join.room.name == created["room_name"]
            call = await sb.call(created["call_id"])
            assert join.participant.identity == call["identity"]
            assert join.participant.sid.startswith("PA_")
            assert not join.subscriber_primary
            [agent] = join.other_participants
            assert agent.kind == AGENT
            assert agent.identity != join.participant.identity
            assert agent.attributes["lk.agent.state"] == "initializing"
            [voice] = agent.tracks
            assert voice.type == models.TrackType.AUDIO and voice.sid.startswith("TR_")
            assert join.ping_interval > 0 and join.ping_timeout > join.ping_interval

            await send(ws, ping_req=rtc.Ping(timestamp=1234567, rtt=5))
            pong = await receive_kind(ws, "pong_resp")
            assert pong.last_ping_timestamp == 1234567 and pong.timestamp > 0
            await send(ws, ping=42)
            assert await receive_kind(ws, "pong") > 0
            await ws.close()

    run(scenario())


def test_the_join_delay_fault_applies_to_the_next_join_while_the_sandbox_runs():
    async def scenario():
        async with sandbox() as sb:
            await sb.control("POST", "faults", json={"agent_join_delay": None})
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            join = await receive_kind(ws, "join")

            assert list(join.other_participants) == []  # the assistant is not in the room
            assert join.room.num_participants == 1
            await ws.close()

    run(scenario())


def test_the_agent_state_fault_leaves_the_attribute_out():
    async def scenario():
        async with sandbox() as sb:
            await sb.control("POST", "faults", json={"agent_state": False})
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            join = await receive_kind(ws, "join")

            [agent] = join.other_participants
            assert agent.kind == AGENT
            assert "lk.agent.state" not in agent.attributes
            await ws.close()

    run(scenario())


def test_publishing_a_track_is_acknowledged_within_the_session():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            await receive_kind(ws, "join")
            await send(
                ws,
                add_track=rtc.AddTrackRequest(
                    cid="mic-1",
                    name="microphone",
                    type=models.TrackType.AUDIO,
                    source=models.TrackSource.MICROPHONE,
                ),
            )
            published = await receive_kind(ws, "track_published")
            assert published.cid == "mic-1"
            assert published.track.sid.startswith("TR_")
            assert published.track.source == models.TrackSource.MICROPHONE
            await ws.close()

    run(scenario())


def test_the_v0_path_gets_a_server_offer_with_the_assistant_and_data_channels():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"], path="/rtc")
            join = await receive_kind(ws, "join")
            assert join.subscriber_primary
            offer = await receive_kind(ws, "offer")
            [voice] = join.other_participants[0].tracks
            assert "m=application" in offer.sdp
            assert f"a=msid:{join.other_participants[0].sid}|{voice.sid} {voice.sid}" in offer.sdp
            assert voice.sid in offer.mid_to_track_id.values()
            await ws.close()

    run(scenario())


def test_leaving_ends_the_call_as_a_user_hangup():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            await receive_kind(ws, "join")
            await send(ws, leave=rtc.LeaveRequest(reason=models.DisconnectReason.CLIENT_INITIATED))
            assert await closed(ws)
            call = await sb.wait_for_call(created["call_id"], lambda c: c["status"] == "ended")
            assert call["ended_reason"] == "user_hangup"

    run(scenario())


@pytest.mark.parametrize(
    "garbage",
    [b"\xff\xff\xff\xff\xff", "{not json", b"\x0a\x05\x0a\x03"],  # bytes, text, truncated protobuf
    ids=["bytes", "text", "truncated"],
)
def test_garbage_closes_that_session_only(garbage):
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            await receive_kind(ws, "join")
            if isinstance(garbage, bytes):
                await ws.send_bytes(garbage)
            else:
                await ws.send_str(garbage)
            assert await closed(ws)
            call = await sb.wait_for_call(created["call_id"], lambda c: c["status"] == "ended")
            assert call["ended_reason"] == "error"

            # The server lives on: the next call joins as usual.
            other = await sb.create_call()
            ws = await sb.connect(other["token"])
            assert (await receive(ws)).WhichOneof("message") == "join"
            await ws.close()

    run(scenario())


def test_an_unusable_offer_closes_the_session():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"], join=join_request(offer="not an SDP"))
            await receive_kind(ws, "join")
            assert await closed(ws)
            call = await sb.wait_for_call(created["call_id"], lambda c: c["status"] == "ended")
            assert call["ended_reason"] == "error"

    run(scenario())


@pytest.mark.parametrize("join", ["%%%", "AAAA", base64.urlsafe_b64encode(b"\x08\x01\x12\x03abc").decode()])
def test_a_malformed_join_request_is_refused(join):
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            status, text = await sb.upgrade_refusal(created["token"], join=join)
            assert (status, text) == (400, "malformed join_request")
            assert (await sb.call(created["call_id"]))["status"] == "queued"  # nothing happened to the call

    run(scenario())


def test_stopping_the_server_tells_the_browser_and_closes_its_session():
    async def scenario():
        port = free_port()
        app = create_app(SandboxConfig(port=port, loopback_only=True))
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        async with aiohttp.ClientSession() as http:
            sb = Sandbox(server, http)
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            await receive_kind(ws, "join")
            closing = asyncio.ensure_future(server.close())
            leave = await receive_kind(ws, "leave")
            assert leave.reason == models.DisconnectReason.SERVER_SHUTDOWN
            assert await closed(ws)
            await closing

    run(scenario())


# --- media, with an aiortc peer standing in for the browser ---------------------------------------------


async def browser_like_offer(pc: RTCPeerConnection) -> str:
    """An offer shaped like livekit-client's first: audio m-lines to receive on, a ``_reliable`` channel."""
    for _ in range(3):
        pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


def test_the_answer_carries_the_assistant_audio_as_livekit_maps_it():
    async def scenario():
        use_loopback_ice()
        async with sandbox() as sb:
            created = await sb.create_call()
            pc = new_peer_connection()
            pc.createDataChannel("_reliable", ordered=True)
            ws = await sb.connect(created["token"], join=join_request(offer=await browser_like_offer(pc)))
            join = await receive_kind(ws, "join")
            answer = await receive_kind(ws, "answer")
            agent = join.other_participants[0]
            voice = agent.tracks[0].sid
            assert answer.id == 1
            assert list(answer.mid_to_track_id.values()) == [voice]
            # livekit-client finds the publisher in the stream id: "<participant sid>|<track sid>".
            assert f"a=msid:{agent.sid}|{voice} {voice}" in answer.sdp
            await ws.close()
            await pc.close()

    run(scenario())


def test_a_peer_hears_the_assistant_and_gets_transcripts_of_both_sides():
    """Full media over loopback: the greeting's audio and transcript, then the user speaks and is heard."""

    async def scenario():
        use_loopback_ice()
        # The tone voice and energy ear: the peer "speaks" a tone plan and is heard as its duration.
        async with sandbox(speech=False) as sb:
            created = await sb.create_call()
            pc = new_peer_connection()
            channel = pc.createDataChannel("_reliable", ordered=True)
            packets: asyncio.Queue[models.DataPacket] = asyncio.Queue()
            channel.on("message", lambda data: packets.put_nowait(models.DataPacket.FromString(data)))
            frames = {"audio": 0}

            async def count_audio(track):
                with contextlib.suppress(Exception):
                    while True:
                        await track.recv()
                        frames["audio"] += 1

            pc.on("track", lambda track: asyncio.ensure_future(count_audio(track)))
            ws = await sb.connect(created["token"], join=join_request(offer=await browser_like_offer(pc)))
            join = await receive_kind(ws, "join")
            answer = await receive_kind(ws, "answer")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
            agent = join.other_participants[0]

            greeting = await read_stream(packets)
            assert greeting["identity"] == agent.identity
            assert greeting["header"]["lk.transcription_final"] == "false"
            assert greeting["header"]["lk.transcribed_track_id"] == agent.tracks[0].sid
            assert greeting["trailer"]["lk.transcription_final"] == "true"
            assert greeting["text"] == (await sb.call(created["call_id"]))["assistant"]["first_message"]
            assert len(greeting["chunks"]) == len(plan_speech(greeting["text"]).words) > 1
            assert frames["audio"] > 0

            # Publish a "microphone" that speaks, as livekit-client does: add_track, then a new offer.
            await send(
                ws,
                add_track=rtc.AddTrackRequest(
                    cid="mic", type=models.TrackType.AUDIO, source=models.TrackSource.MICROPHONE
                ),
            )
            mic_sid = (await receive_kind(ws, "track_published")).track.sid
            voice = SpeechTrack("mic")
            pc.addTransceiver(voice, direction="sendonly")  # a new m-line, as livekit-client publishes
            await pc.setLocalDescription(await pc.createOffer())
            await send(ws, offer=rtc.SessionDescription(type="offer", sdp=pc.localDescription.sdp, id=2))
            reanswer = await receive_kind(ws, "answer")
            assert reanswer.id == 2
            await pc.setRemoteDescription(RTCSessionDescription(sdp=reanswer.sdp, type="answer"))
            voice.play(plan_speech("one two three four five six"))

            updates = [await read_stream(packets)]
            while updates[-1]["header"]["lk.transcription_final"] != "true":
                updates.append(await read_stream(packets))
            assert {u["identity"] for u in updates} == {join.participant.identity}
            assert {u["header"]["lk.segment_id"] for u in updates} == {updates[0]["header"]["lk.segment_id"]}
            assert {u["header"]["lk.transcribed_track_id"] for u in updates} == {mic_sid}
            assert len(updates) >= 2  # interim, then final
            seconds = float(re.fullmatch(r"\[(\d+\.\d) s of speech\]", updates[-1]["text"]).group(1))
            assert 1.0 <= seconds <= 5.0  # the six words last about 2.5 s

            call = await sb.call(created["call_id"])
            assert call["status"] == "in-progress"
            assert [m["role"] for m in call["transcript"][:2]] == ["assistant", "user"]
            assert call["transcript"][1]["content"] == updates[-1]["text"]
            await ws.close()
            await pc.close()

    run(scenario())


def test_hanging_up_stops_the_assistant_and_every_task_of_the_session():
    def session_tasks() -> list[asyncio.Task]:
        return [
            t
            for t in asyncio.all_tasks()
            if not t.done()
            and t.get_coro().__qualname__.startswith(
                ("SignalSession.", "SessionTasks.", "ScriptedAssistant.", "CallRoom.")
            )
        ]

    async def scenario():
        use_loopback_ice()
        async with sandbox() as sb:
            created = await sb.create_call()
            pc = new_peer_connection()
            channel = pc.createDataChannel("_reliable", ordered=True)
            packets: asyncio.Queue[models.DataPacket] = asyncio.Queue()
            channel.on("message", lambda data: packets.put_nowait(models.DataPacket.FromString(data)))
            ws = await sb.connect(created["token"], join=join_request(offer=await browser_like_offer(pc)))
            answer = await receive_kind(ws, "answer")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
            await read_stream(packets)  # the greeting: the assistant is talking
            assert session_tasks()

            await send(ws, leave=rtc.LeaveRequest(reason=models.DisconnectReason.CLIENT_INITIATED))
            assert await closed(ws)
            await sb.wait_for_call(created["call_id"], lambda c: c["status"] == "ended")
            deadline = asyncio.get_running_loop().time() + TIMEOUT
            while session_tasks() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            assert session_tasks() == []
            await pc.close()

    run(scenario())


async def read_stream(packets: asyncio.Queue) -> dict[str, Any]:
    """Collect one ``lk.transcription`` text stream (header, chunks, trailer) from the data channel."""
    while True:
        header = await asyncio.wait_for(packets.get(), TIMEOUT)
        if header.WhichOneof("value") == "stream_header":
            break
    assert header.stream_header.topic == "lk.transcription"
    assert header.stream_header.mime_type == "text/plain"
    stream = {
        "identity": header.participant_identity,
        "header": dict(header.stream_header.attributes),
        "chunks": [],
    }
    while True:
        packet = await asyncio.wait_for(packets.get(), TIMEOUT)
        kind = packet.WhichOneof("value")
        if kind == "stream_chunk":
            assert packet.stream_chunk.stream_id == header.stream_header.stream_id
            assert packet.stream_chunk.chunk_index == len(stream["chunks"])
            stream["chunks"].append(packet.stream_chunk.content.decode())
        elif kind == "stream_trailer":
            assert packet.stream_trailer.stream_id == header.stream_header.stream_id
            stream["trailer"] = dict(packet.stream_trailer.attributes)
            stream["text"] = "".join(stream["chunks"])
            return stream


def test_a_peer_connection_that_never_closes_does_not_hold_up_the_calls_end(monkeypatch, caplog):
    # aiortc's close can wait for ever on a transport that never answers: the session's close (after
    # which the call ends and its report goes out) waits for it only so long.
    from flask_hms_webcall.sandbox.media import session_peers

    monkeypatch.setattr(session_peers, "PEER_CLOSE_SECONDS", 0.2)

    async def scenario() -> float:
        peers = session_peers.SessionPeers("call-1", v0=True, loopback_only=True)
        closed: list[str] = []

        async def never() -> None:
            await asyncio.Event().wait()

        async def at_once() -> None:
            closed.append("subscriber")

        monkeypatch.setattr(peers.publisher, "close", never)
        monkeypatch.setattr(peers.subscriber, "close", at_once)
        started = asyncio.get_running_loop().time()
        await peers.close()
        assert closed == ["subscriber"]  # the next connection is still closed
        return asyncio.get_running_loop().time() - started

    with caplog.at_level("WARNING", logger="flask_hms_webcall.sandbox.media"):
        assert run(scenario()) < 5
    assert "call call-1: the publisher connection did not close in time" in caplog.text
