"""The sandbox assistant: greets, listens to the visitor's turns, answers, calls tools, hangs up.

Two ways to answer, picked per call:

* **Rules** (the default, when speech recognition is available): the visitor's words are recognised and
  the assistant's :class:`~..brain.Brain` picks a reply, a tool call (a signed ``tool-calls`` webhook whose
  result is read out) or a goodbye that hangs up (``agent_hangup``).
* **Script** (``--script FILE``, or the fallback without the speech packages): the next scripted line per
  turn, whatever was said; when the lines run out it hangs up if the script says so, else keeps listening.

The mouth is eSpeak NG when available (else tones), the ears PocketSphinx (else the energy detector): see
``espeak``, ``ears``. Speech is half-duplex: what the visitor says while the assistant talks is not heard.
Typed text (``lk.chat``, see ``chat``) is a final turn like a spoken one; as in LiveKit Agents it cuts the
assistant short when it arrives while the assistant is thinking or speaking.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from ..brain import Brain, Decision
from ..calls import Call
from ..config import DEFAULT_FIRST_MESSAGE, Script
from ..webhooks import ToolAnswer
from . import espeak, recognizer, transcription
from .audio import SpeechPlan, SpeechTrack, plan_speech, to_mono_int16
from .ears import EnergyEars, Heard, SpeechEars, describe_speech
from .room import AGENT_STATE, Participant
from .turns import TurnInbox, Typed

log = logging.getLogger("flask_hms_webcall.sandbox.media")

THINKING_SECONDS = 0.6  # between the end of the visitor's turn and the answer, like a real pipeline's latency
HANGUP_GRACE_SECONDS = 0.5  # lets the last word's audio reach the browser before the room closes
DATA_CHANNEL_WAIT_SECONDS = 5.0
# After the assistant's last word the browser still plays it (jitter buffer, network) and an imperfect echo
# canceller may send it back: this long, the visitor's microphone is not listened to (no self-hearing).
ECHO_TAIL_SECONDS = 0.5

# Sends one tool call to the app and returns its answer: (call, tool_call_id, name, arguments).
ToolCaller = Callable[[Call, str, str, dict[str, Any]], Awaitable[ToolAnswer]]

__all__ = ["ScriptedAssistant", "describe_speech", "voices_of"]


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

    @property
    def present(self) -> bool:
        """Whether the visitor is connected (False while their dropped connection may come back)."""

    async def wait_present(self) -> None:
        """Return once the visitor is connected."""


def voices_of(assistant: dict[str, Any]) -> list[str]:
    """eSpeak NG voices to try, best first: ``tts_config.voice_id``, then its ``language``, then English."""
    tts = assistant.get("tts_config")
    tts = tts if isinstance(tts, dict) else {}
    stt = assistant.get("stt_config")
    stt = stt if isinstance(stt, dict) else {}
    wanted = (tts.get("voice_id"), tts.get("language"), stt.get("language"), espeak.DEFAULT_VOICE)
    return list(dict.fromkeys(v for v in wanted if isinstance(v, str) and v.strip()))


class ScriptedAssistant:
    def __init__(
        self,
        *,
        call: Call,
        script: Script | None,
        agent: Participant,
        voice: SpeechTrack,
        link: RoomLink,
        hang_up: Callable[[], None],
        present: bool,
        join_delay: float | None,
        tools: ToolCaller | None = None,
        speech: bool = True,
        publish_state: bool = True,
    ) -> None:
        self.call = call
        self.agent = agent
        self.voice = voice
        self.link = link
        self._hang_up = hang_up
        self.present = present  # announced in the JoinResponse
        self.join_delay = join_delay  # None: never joins
        self.tools = tools
        self.speaks_words = speech and espeak.available()
        self.recognizes_words = speech and recognizer.available()
        self.brain = Brain.from_assistant(call.assistant)
        # Rules need words; without recognition the default script stands in (the pre-speech sandbox).
        self.script = script if script is not None or self.recognizes_words else Script()
        self.ears: EnergyEars | SpeechEars = EnergyEars()
        self._voices = voices_of(call.assistant)
        self.turns = TurnInbox()
        self._interrupted = asyncio.Event()  # typed text cut in: the reply being made or spoken is dropped
        self._listening = False
        self.state = "initializing"  # LiveKit Agents' lk.agent.state
        self.publish_state = publish_state
        self._deaf_until = 0.0  # event loop time: the echo of the assistant's own voice may still arrive

    @property
    def first_message(self) -> str:
        message = self.call.assistant.get("first_message")
        return message if isinstance(message, str) and message.strip() else DEFAULT_FIRST_MESSAGE

    async def run(self) -> None:
        """The conversation, from the moment the visitor is in the room until the assistant hangs up."""
        if not self.present and self.join_delay is None:
            log.info("call %s: the assistant never joins (agent_join_delay=never)", self.call.call_id)
            return
        ears = None
        if self.recognizes_words:  # loads while the assistant joins and greets
            ears = asyncio.ensure_future(asyncio.to_thread(SpeechEars, self.brain.phrases()))
        try:
            if not self.present:
                assert self.join_delay is not None
                await asyncio.sleep(self.join_delay)
                await self.link.agent_arrives()
                self.present = True
            try:
                await asyncio.wait_for(self.link.data_ready(), DATA_CHANNEL_WAIT_SECONDS)
            except asyncio.TimeoutError:
                log.warning("call %s: no data channel; transcripts will be late", self.call.call_id)
            await self.say(self.first_message)
            if ears is not None:
                try:
                    self.ears = await ears
                except Exception:  # e.g. no writable temp dir for the language model: carry on without words
                    log.exception("call %s: speech recognition failed to start", self.call.call_id)
                    self.script = self.script or Script()
            if self.script is None:
                await self._converse()
            else:
                await self._follow_script(self.script)
        finally:
            if ears is not None and not ears.done():
                ears.cancel()

    async def _follow_script(self, script: Script) -> None:
        for line in script.lines:
            await self.listen_for_turn()
            await self._set_state("thinking")
            await asyncio.sleep(THINKING_SECONDS)
            await self.say(line)
        if script.agent_hangup:
            await self._say_goodbye("the script is done")
            return
        while True:  # nothing left to say: keep transcribing what the visitor says
            await self.listen_for_turn()

    async def _converse(self) -> None:
        while True:
            heard = await self.listen_for_turn()
            await self._set_state("thinking")
            decision = self.brain.decide(heard.words)
            if decision.tool is not None:
                text = await self._use_tool(decision)
            else:
                await asyncio.sleep(THINKING_SECONDS)
                text = decision.text
            said = await self.say(text)
            if decision.hang_up and said:  # a goodbye cut short by typed text does not hang up
                await self._say_goodbye(f"the visitor said {heard.words!r}")
                return

    async def _say_goodbye(self, why: str) -> None:
        await asyncio.sleep(HANGUP_GRACE_SECONDS)
        log.info("call %s: %s, the assistant hangs up", self.call.call_id, why)
        self._hang_up()

    async def _use_tool(self, decision: Decision) -> str:
        """Call the app's tool as HMS does, record call and result in the transcript; what to say next."""
        assert decision.tool is not None
        tool_call_id = "call_" + secrets.token_hex(12)
        function = {"name": decision.tool, "arguments": dict(decision.arguments)}
        self.call.add_message(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": tool_call_id, "type": "function", "function": function}],
            }
        )
        if self.tools is None:
            answer = ToolAnswer(ok=False, error="no tool endpoint")
        else:
            answer = await self.tools(self.call, tool_call_id, decision.tool, dict(decision.arguments))
        if answer.ok:
            result = answer.result
            content = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        else:
            content = f"Error: {answer.error}"
            log.info("call %s: tool %s failed: %s", self.call.call_id, decision.tool, answer.error)
        self.call.add_message(
            {"role": "tool", "tool_call_id": tool_call_id, "name": decision.tool, "content": content}
        )
        return self.brain.answer(decision, answer.result) if answer.ok else self.brain.failed(decision)

    def speech_for(self, text: str) -> SpeechPlan:
        """``text`` as audio with word timings: eSpeak NG in the assistant's voice, else tones."""
        plan = espeak.synthesize(text, self._voices) if self.speaks_words else None
        return plan if plan is not None else plan_speech(text)

    def typed(self, text: str) -> None:
        """The visitor typed ``text`` (``lk.chat``): a turn, which cuts the current reply short as LiveKit
        Agents' default text input does (``session.interrupt()``, then a reply to the text)."""
        if not self.turns.typed(text):
            log.info(
                "call %s: a typed message dropped, %d are waiting",
                self.call.call_id,
                self.turns.typed_waiting,
            )
            return
        if self.state in ("thinking", "speaking"):
            self._interrupted.set()

    async def say(self, text: str) -> bool:
        """Speak ``text``, streaming its transcript word by word as each word starts playing; False when
        typed text cut it short."""
        if self._interrupted.is_set():  # the visitor typed while this reply was being made
            self._interrupted.clear()
            return False
        plan = self.speech_for(text)
        if not plan.words:
            return True
        said = True
        await self.link.wait_present()  # nobody to talk to while the visitor's connection is down
        segment = transcription.SpokenSegment(self.agent.identity, self.voice.id)
        delivered: list[str] = []
        await self._set_state("speaking")
        start = self.voice.play(plan)
        self.link.send_data(segment.open())
        try:
            for word in plan.words:
                await self._sleep_until(start + word.start)
                # The visitor dropped mid-sentence (the room cut the voice) or typed over it: the rest goes
                # unsaid.
                if not self.link.present or self._interrupted.is_set():
                    break
                self.link.send_data(segment.word(word.text))
                delivered.append(word.text)
            else:
                await self._sleep_until(start + plan.duration)
            if self._interrupted.is_set():  # the audio stops too; the transcript ends at the last word sent
                self._interrupted.clear()
                said = False
                self.voice.stop_speaking()
            self.link.send_data(segment.close())
        finally:
            # Cut short (the call ended mid-sentence): the transcript keeps what was actually said.
            if delivered:
                self.call.add_transcript("assistant", "".join(delivered).strip())
            self._deaf_until = asyncio.get_running_loop().time() + ECHO_TAIL_SECONDS
        await self._set_state("listening")
        return said

    async def listen_for_turn(self) -> Heard:
        """Wait for the visitor to speak and stop; publish interim and final transcripts; return the turn."""
        self.turns.forget_heard()
        self.ears.reset()
        self._listening = True
        await self._set_state("listening")
        segment_id = transcription.new_segment_id()
        try:
            while True:
                heard = await self.turns.next()
                if isinstance(heard, Typed):
                    # Published like a spoken final turn, so that every client in the room shows it, not
                    # only the one that typed it (LiveKit Agents leave that to the sender; the widget drops
                    # the echo).
                    heard = Heard(text=str(heard), final=True, duration=0.0, words=str(heard))
                for packet in transcription.heard_update(
                    self.link.user_identity,
                    self.link.user_track_sid,
                    segment_id,
                    heard.text,
                    final=heard.final,
                ):
                    self.link.send_data(packet)
                if heard.final:
                    self.call.add_transcript("user", heard.text)
                    return heard
        finally:
            self._listening = False

    async def hear(self, track: MediaStreamTrack) -> None:
        """Consume the visitor's microphone track for as long as it lasts (aiortc queues frames otherwise)."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            # An audio track's frames are AudioFrames; recv() is typed for any track (video frames, packets).
            if not self._listening or not isinstance(frame, AudioFrame):
                continue
            if asyncio.get_running_loop().time() < self._deaf_until:
                continue
            for heard in self.ears.feed(to_mono_int16(frame), frame.sample_rate):
                self.turns.heard(heard)

    async def _set_state(self, state: str) -> None:
        """As LiveKit Agents do: the state as the ``lk.agent.state`` attribute (and the server's
        active-speaker updates follow the speaking)."""
        if self.present and self.state != state:
            self.state = state
            if self.publish_state:
                self.agent.attributes[AGENT_STATE] = state
            await self.link.agent_changed()

    async def _sleep_until(self, timeline_seconds: float) -> None:
        """Wait until then on the voice's timeline, or until typed text cuts the assistant short."""
        delay = timeline_seconds - self.voice.now()
        if delay > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._interrupted.wait(), delay)
