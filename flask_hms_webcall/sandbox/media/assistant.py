"""The scripted assistant: greets, waits for the visitor to speak, answers with the next line of the script.

It cannot understand words. It hears *that* the visitor spoke (energy on the microphone track), reports that
as the user's transcript ("[1.4 s of speech]"), and replies with the next scripted line. When the lines run
out it hangs up if the script says so, otherwise it keeps listening. Speech is half-duplex: what the visitor
says while the assistant talks is not heard (no barge-in).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ..calls import Call
from ..config import DEFAULT_FIRST_MESSAGE, Script
from . import transcription
from .audio import SpeechTrack, VoiceActivityDetector, VoiceEvent, plan_speech, to_mono_int16
from .room import AGENT_STATE, Participant

log = logging.getLogger("flask_hms_webcall.sandbox.media")

THINKING_SECONDS = 0.6  # between the end of the visitor's turn and the answer, like a real pipeline's latency
HANGUP_GRACE_SECONDS = 0.5  # lets the last word's audio reach the browser before the room closes
DATA_CHANNEL_WAIT_SECONDS = 5.0


class RoomLink(Protocol):
    """What the assistant needs from the signalling session that hosts it."""

    @property
    def user_identity(self) -> str: ...

    @property
    def user_track_sid(self) -> str | None: ...

    async def agent_arrives(self) -> None:
        """Announce the assistant to a browser already in the room and get its audio track negotiated."""

    async def agent_changed(self) -> None:
        """Tell the browser about a change of the assistant's attributes."""

    def send_data(self, packet: bytes) -> None:
        """Send a serialized DataPacket on the reliable data channel (queued until it opens)."""

    async def data_ready(self) -> None:
        """Return once the reliable data channel is open."""


def describe_speech(seconds: float, *, final: bool) -> str:
    """What the sandbox's "speech recognition" reports: how long the visitor spoke (at least 0.1 s)."""
    seconds = max(seconds, 0.1)
    return f"[{seconds:.1f} s of speech]" if final else f"[{seconds:.1f} s of speech…]"


class ScriptedAssistant:
    def __init__(
        self,
        *,
        call: Call,
        script: Script,
        agent: Participant,
        voice: SpeechTrack,
        link: RoomLink,
        hang_up: Callable[[], None],
        present: bool,
        join_delay: float | None,
    ) -> None:
        self.call = call
        self.script = script
        self.agent = agent
        self.voice = voice
        self.link = link
        self._hang_up = hang_up
        self.present = present  # announced in the JoinResponse
        self.join_delay = join_delay  # None: never joins
        self.vad = VoiceActivityDetector()
        self._heard: asyncio.Queue[VoiceEvent] = asyncio.Queue()
        self._listening = False

    @property
    def first_message(self) -> str:
        message = self.call.assistant.get("first_message")
        return message if isinstance(message, str) and message.strip() else DEFAULT_FIRST_MESSAGE

    async def run(self) -> None:
        """The conversation, from the moment the visitor is in the room until the assistant hangs up."""
        if not self.present:
            if self.join_delay is None:
                log.info("call %s: the assistant never joins (agent_join_delay=never)", self.call.call_id)
                return
            await asyncio.sleep(self.join_delay)
            await self.link.agent_arrives()
            self.present = True
        try:
            await asyncio.wait_for(self.link.data_ready(), DATA_CHANNEL_WAIT_SECONDS)
        except asyncio.TimeoutError:
            log.warning("call %s: no data channel; transcripts will be late", self.call.call_id)
        await self.say(self.first_message)
        for line in self.script.lines:
            await self.listen_for_turn()
            await self._set_state("thinking")
            await asyncio.sleep(THINKING_SECONDS)
            await self.say(line)
        if self.script.agent_hangup:
            await asyncio.sleep(HANGUP_GRACE_SECONDS)
            log.info("call %s: the script is done, the assistant hangs up", self.call.call_id)
            self._hang_up()
            return
        while True:  # nothing left to say: keep transcribing what the visitor says
            await self.listen_for_turn()

    async def say(self, text: str) -> None:
        """Speak ``text``, streaming its transcript word by word as each word starts playing."""
        plan = plan_speech(text)
        if not plan.words:
            return
        segment = transcription.SpokenSegment(self.agent.identity, self.voice.id)
        delivered: list[str] = []
        await self._set_state("speaking")
        start = self.voice.play(plan)
        self.link.send_data(segment.open())
        try:
            for word in plan.words:
                await self._sleep_until(start + word.start)
                self.link.send_data(segment.word(word.text))
                delivered.append(word.text)
            await self._sleep_until(start + plan.duration)
            self.link.send_data(segment.close())
        finally:
            # Cut short (the call ended mid-sentence): the transcript keeps what was actually said.
            if delivered:
                self.call.add_transcript("assistant", "".join(delivered).strip())
        await self._set_state("listening")

    async def listen_for_turn(self) -> float:
        """Wait for the visitor to speak and stop; publish interim and final transcripts; return seconds."""
        while not self._heard.empty():
            self._heard.get_nowait()
        self.vad.reset()
        self._listening = True
        await self._set_state("listening")
        segment_id = transcription.new_segment_id()
        try:
            while True:
                event = await self._heard.get()
                final = event.kind == "end"
                text = describe_speech(event.duration, final=final)
                for packet in transcription.heard_update(
                    self.link.user_identity, self.link.user_track_sid, segment_id, text, final=final
                ):
                    self.link.send_data(packet)
                if final:
                    self.call.add_transcript("user", text)
                    return event.duration
        finally:
            self._listening = False

    async def hear(self, track: MediaStreamTrack) -> None:
        """Consume the visitor's microphone track for as long as it lasts (aiortc queues frames otherwise)."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not self._listening:
                continue
            for event in self.vad.feed(to_mono_int16(frame), frame.sample_rate):
                self._heard.put_nowait(event)

    async def _set_state(self, state: str) -> None:
        if self.present and self.agent.attributes.get(AGENT_STATE) != state:
            self.agent.attributes[AGENT_STATE] = state
            await self.link.agent_changed()

    async def _sleep_until(self, timeline_seconds: float) -> None:
        delay = timeline_seconds - self.voice.now()
        if delay > 0:
            await asyncio.sleep(delay)
