"""A network drop is not a lost call: the sandbox's room waits for a visitor whose connection dropped.

At the protocol level (no browser), with an aiortc peer standing in for livekit-client: a connection that
ends without a ``leave`` keeps the call for ``departure_timeout`` seconds; a join with the same token within
that time continues the same call (same assistant, no second greeting, one report); a resume attempt is
answered with a ``leave`` asking for that full reconnect; past the timeout the call ends as ``user_hangup``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import RTCSessionDescription
from livekit.protocol import models, rtc

from flask_hms_webcall.sandbox.config import DEFAULT_SCRIPT_LINES
from flask_hms_webcall.sandbox.media.audio import SpeechTrack, plan_speech
from flask_hms_webcall.sandbox.media.peer import new_peer_connection, use_loopback_ice
from tests.sandbox.test_media_protocol import (
    browser_like_offer,
    closed,
    join_request,
    read_stream,
    receive,
    receive_kind,
    run,
    sandbox,
    send,
)

# Deliveries fail (nothing listens there) but are recorded: what the sandbox sent, and how often.
HOOKS = {"webhook_url": "http://127.0.0.1:9/hooks", "webhook_retries": 0}


class Peer:
    """A browser-like peer in the call's room: its websocket, peer connection and data channel packets."""

    async def join(self, sb: Any, token: str) -> rtc.JoinResponse:
        self.pc = new_peer_connection()
        channel = self.pc.createDataChannel("_reliable", ordered=True)
        self.packets: asyncio.Queue[models.DataPacket] = asyncio.Queue()
        channel.on("message", lambda data: self.packets.put_nowait(models.DataPacket.FromString(data)))
        offer = await browser_like_offer(self.pc)
        self.ws = await sb.connect(token, join=join_request(offer=offer))
        join = await receive_kind(self.ws, "join")
        answer = await receive_kind(self.ws, "answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        return join

    async def speak(self, sb: Any) -> None:
        """Publish a "microphone" as livekit-client does (add_track, a new offer) and say a few words."""
        await send(
            self.ws,
            add_track=rtc.AddTrackRequest(
                cid="mic", type=models.TrackType.AUDIO, source=models.TrackSource.MICROPHONE
            ),
        )
        await receive_kind(self.ws, "track_published")
        voice = SpeechTrack("mic")
        self.pc.addTransceiver(voice, direction="sendonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = rtc.SessionDescription(type="offer", sdp=self.pc.localDescription.sdp, id=2)
        await send(self.ws, offer=offer)
        answer = await receive_kind(self.ws, "answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        voice.play(plan_speech("one two three four"))

    async def drop(self) -> None:
        """Gone without a word, as a browser whose network went away (no ``leave``)."""
        await self.ws.close()
        await self.pc.close()


async def ended(sb: Any, call_id: str) -> dict[str, Any]:
    return await sb.wait_for_call(call_id, lambda c: c["status"] == "ended")


async def reports(sb: Any, call_id: str) -> list[str]:
    return [d["event"] for d in await sb.control("GET", "webhooks") if d["call_id"] == call_id]


def test_a_rejoin_within_the_departure_timeout_continues_the_same_call():
    async def scenario():
        use_loopback_ice()
        async with sandbox(speech=False, departure_timeout=60, **HOOKS) as sb:
            created = await sb.create_call()
            call_id = created["call_id"]
            first = Peer()
            join = await first.join(sb, created["token"])
            agent = join.other_participants[0]
            greeting = await read_stream(first.packets)
            await sb.wait_for_call(call_id, lambda c: c["transcript"])  # the greeting is over
            await first.drop()

            # The visitor is away: the call is not over.
            assert (await sb.call(call_id))["status"] == "in-progress"

            second = Peer()
            rejoin = await second.join(sb, created["token"])
            # The same room: the same assistant (already there, its voice announced), a new participant.
            assert [(p.sid, p.identity) for p in rejoin.other_participants] == [(agent.sid, agent.identity)]
            assert rejoin.other_participants[0].tracks[0].sid == agent.tracks[0].sid
            assert rejoin.participant.identity == join.participant.identity
            assert rejoin.participant.sid != join.participant.sid

            # The conversation goes on over the new connection: the visitor speaks, the assistant answers
            # with its next line (the scripted voice of speech=False), not with a second greeting.
            await second.speak(sb)
            heard = await read_stream(second.packets)
            while heard["header"]["lk.transcription_final"] != "true":
                heard = await read_stream(second.packets)
            assert heard["identity"] == join.participant.identity
            answer = await read_stream(second.packets)
            assert answer["identity"] == agent.identity
            assert answer["text"] == DEFAULT_SCRIPT_LINES[0]
            await send(second.ws, leave=rtc.LeaveRequest(reason=models.DisconnectReason.CLIENT_INITIATED))
            assert await closed(second.ws)
            call = await ended(sb, call_id)
            assert call["call_id"] == call_id
            assert call["ended_reason"] == "user_hangup"
            said = [m["content"] for m in call["transcript"]]
            assert said == [greeting["text"], heard["text"], answer["text"]]
            sent = await reports(sb, call_id)
            assert sent.count("end-of-call-report") == 1, sent
            assert sent.count("status-update") == 2, sent  # in-progress once, ended once
            await second.pc.close()

    run(scenario())


def test_past_the_departure_timeout_the_call_ends_as_a_user_hangup_with_its_report():
    async def scenario():
        use_loopback_ice()
        async with sandbox(speech=False, departure_timeout=1, **HOOKS) as sb:
            created = await sb.create_call()
            peer = Peer()
            await peer.join(sb, created["token"])
            await read_stream(peer.packets)
            await peer.drop()
            assert (await sb.call(created["call_id"]))["status"] == "in-progress"
            call = await ended(sb, created["call_id"])
            assert call["ended_reason"] == "user_hangup"
            # The room is gone: the token finds nothing to rejoin.
            assert await sb.upgrade_refusal(created["token"]) == (404, "requested room does not exist")
            assert "end-of-call-report" in await reports(sb, created["call_id"])

    run(scenario())


def test_the_assistant_does_not_talk_to_an_empty_room():
    async def scenario():
        use_loopback_ice()
        async with sandbox(speech=False, departure_timeout=60) as sb:
            created = await sb.create_call()
            call_id = created["call_id"]
            peer = Peer()
            await peer.join(sb, created["token"])
            # The greeting has begun (its stream is open, the first word is out): the visitor drops.
            while (await asyncio.wait_for(peer.packets.get(), 20)).WhichOneof("value") != "stream_chunk":
                pass
            await peer.drop()
            call = await sb.wait_for_call(call_id, lambda c: c["transcript"])
            said = call["transcript"][0]["content"]
            first_message = call["assistant"]["first_message"]
            # What the transcript keeps is what went out before the drop: the greeting was cut short.
            assert first_message.startswith(said) and said != first_message, said
            await sb.control("POST", f"calls/{call_id}/end")

    run(scenario())


def test_a_resume_attempt_asks_for_a_full_reconnect_which_finds_the_call():
    async def scenario():
        async with sandbox(departure_timeout=60) as sb:
            created = await sb.create_call()
            old = await sb.connect(created["token"])
            await receive_kind(old, "join")
            # A join with the same token is refused while that browser is connected ...
            assert (await sb.upgrade_refusal(created["token"]))[0] == 403

            # ... but its resume attempt says it has lost that connection: it is asked to join again.
            resume = await sb.connect(created["token"], join=join_request(reconnect=True))
            first = await receive(resume)
            assert first.WhichOneof("message") == "leave"
            assert first.leave.action == rtc.LeaveRequest.Action.RECONNECT
            assert first.leave.can_reconnect
            assert await closed(resume)
            assert await closed(old)

            again = await sb.connect(created["token"])
            assert (await receive_kind(again, "join")).room.name == created["room_name"]
            assert (await sb.call(created["call_id"]))["status"] != "ended"
            await again.close()

    run(scenario())


def test_a_resume_attempt_for_a_call_that_is_over_is_told_to_leave_for_good():
    async def scenario():
        async with sandbox() as sb:
            created = await sb.create_call()
            await sb.control("POST", f"calls/{created['call_id']}/end")
            resume = await sb.connect(created["token"], join=join_request(reconnect=True))
            first = await receive(resume)
            assert first.leave.action == rtc.LeaveRequest.Action.DISCONNECT
            assert not first.leave.can_reconnect
            assert await closed(resume)

    run(scenario())


def test_the_root_answers_livekit_clients_network_check_from_any_origin():
    async def scenario():
        async with sandbox() as sb:
            response = await sb.http.head(sb.url("/"), headers={"Origin": "http://site.example"})
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "*"

    run(scenario())


def test_the_token_is_kept_fresh_so_a_late_rejoin_is_not_refused_as_expired():
    async def scenario():
        async with sandbox(token_ttl=3, departure_timeout=60) as sb:
            created = await sb.create_call()
            ws = await sb.connect(created["token"])
            join = await receive_kind(ws, "join")
            fresh = await receive_kind(ws, "refresh_token")
            grant = sb.app["tokens"].verify(fresh)
            assert (grant.identity, grant.room) == (join.participant.identity, created["room_name"])
            # The token the call was created with runs out; the browser joins again with the fresh one.
            while (await sb.validate(created["token"]))[0] != 401:
                fresh = await receive_kind(ws, "refresh_token")
            await ws.close()
            while (await sb.validate(fresh))[0] != 200:  # the server has noticed the drop
                await asyncio.sleep(0.05)
            again = await sb.connect(fresh)
            assert (await receive_kind(again, "join")).participant.identity == join.participant.identity
            await again.close()

    run(scenario())
