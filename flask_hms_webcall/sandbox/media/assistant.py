"""The sandbox assistant: greets, listens to the visitor's turns, answers, calls tools, hangs up.

Two ways to answer, picked per call:

* **Rules** (the default, when speech recognition is available): the visitor's words are recognised and
  the assistant's :class:`~..brain.Brain` picks a reply, a tool call (a signed ``tool-calls`` webhook whose
  result is read out) or a goodbye that hangs up (``agent_hangup``).
* **Script** (``--script FILE``, or the fallback without the speech packages): the next scripted line per
  turn, whatever was said; when the lines run out it hangs up if the script says so, else keeps listening.

The mouth is eSpeak NG when available (else tones), the ears PocketSphinx (else the energy detector): see
``espeak``, ``ears``. The visitor is listened to all the time (``listener``): speech over the assistant's
voice interrupts it (a barge-in), unless the assistant's ``speech_config.allow_interruptions`` is false or
the sandbox runs with ``--no-interruptions``; its own voice coming back is not heard (``echo``).

Turns come from the turn inbox (``turns``), one at a time, whoever put them there: the listener puts each
final spoken turn (:meth:`ScriptedAssistant.take_turn`), the chat each typed message
(:meth:`ScriptedAssistant.typed`, ``lk.chat``, see ``chat``). A typed message is a final turn like a spoken
one; as LiveKit Agents' default text input does, it cuts the assistant short.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiortc.mediastreams import MediaStreamTrack

from ..brain import Brain, Decision
from ..calls import Call
from ..config import DEFAULT_FIRST_MESSAGE, Script
from ..language import words
from ..webhooks import ToolAnswer
from . import espeak, recognizer, transcription
from .audio import SpeechPlan, SpeechTrack
from .ears import EnergyEars, Heard, SpeechEars, describe_speech
from .echo import EchoGuard
from .listener import Listener
from .mouth import Mouth, fixed_lines
from .room import AGENT_STATE, Participant
from .turns import TurnInbox, Typed

log = logging.getLogger("flask_hms_webcall.sandbox.media")

HANGUP_GRACE_SECONDS = 0.5  # lets the last word's audio reach the browser before the room closes
# After "anything else?" about a goodbye it was not sure of, this long without a word from the visitor
# (counted from the question's end, and not while they speak) is taken for the goodbye.
CLOSING_SILENCE_SECONDS = 6.0
DATA_CHANNEL_WAIT_SECONDS = 5.0

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


def allows_interruptions(assistant: dict[str, Any], default: bool = True) -> bool:
    """``speech_config.allow_interruptions`` when the assistant sets it (LiveKit Agents' name for it),
    else ``default`` (the sandbox's ``--no-interruptions``)."""
    speech = assistant.get("speech_config")
    allowed = speech.get("allow_interruptions") if isinstance(speech, dict) else None
    return allowed if isinstance(allowed, bool) else default


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
        interruptions: bool = True,
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
        self.mouth = Mouth(voices_of(call.assistant), words=self.speaks_words)
        self.interruptible = allows_interruptions(call.assistant, interruptions)
        self.state = "initializing"  # LiveKit Agents' lk.agent.state
        self.publish_state = publish_state
        self.turns = TurnInbox()
        self._cut: asyncio.Event | None = None  # set when the line being said is interrupted
        self._cut_at = 0.0  # where on the voice's timeline it was cut
        self.guard = EchoGuard()
        if voice is not None:
            voice.on_played = self.guard.played
        self.listener = Listener(call=call, link=link, floor=self, guard=self.guard, on_turn=self.take_turn)

    @property
    def ears(self) -> EnergyEars | SpeechEars:
        return self.listener.ears

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
        lines = fixed_lines(self.brain) if self.script is None else list(self.script.lines)
        ready = asyncio.ensure_future(self.mouth.prepare([self.first_message, *lines]))
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
                    self.listener.use(await ears)
                except Exception:  # e.g. no writable temp dir for the language model: carry on without words
                    log.exception("call %s: speech recognition failed to start", self.call.call_id)
                    self.script = self.script or Script()
            if self.script is None:
                await self._converse()
            else:
                await self._follow_script(self.script)
        finally:
            for task in (ears, ready):
                if task is not None and not task.done():
                    task.cancel()

    async def _follow_script(self, script: Script) -> None:
        for line in script.lines:
            await self.next_turn()
            await self._set_state("thinking")
            await self.say(line)
        if script.agent_hangup:
            await self._say_goodbye("the script is done")
            return
        while True:  # nothing left to say: keep transcribing what the visitor says
            await self.next_turn()

    async def _converse(self) -> None:
        while True:
            silence = CLOSING_SILENCE_SECONDS if self.brain.closing else None
            heard = await self.next_turn(silence=silence)
            if heard is None:
                decision = self.brain.unanswered()
                why = f"nothing said for {silence:.0f} s after 'anything else?'"
            else:
                await self._set_state("thinking")
                began = time.perf_counter()
                decision = self.brain.decide(heard.words, heard.confidence or None, heard.alternatives)
                log.info("call %s: rule %.0f ms", self.call.call_id, (time.perf_counter() - began) * 1000)
                why = f"the visitor said {heard.words!r}"
            if decision is None:
                continue
            text = decision.text if decision.tool is None else await self._use_tool(decision)
            said = await self.say(text)
            if decision.hang_up and said:  # a goodbye talked over is not the end: the visitor has more
                await self._say_goodbye(why)
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
        return self.mouth.plan(text)

    async def say(self, text: str) -> bool:
        """Speak ``text``, streaming its transcript word by word as each word starts playing; False when
        the visitor interrupted it (the transcript then holds the words played before the cut)."""
        began = time.perf_counter()
        plan = await self.mouth.speak(text)
        synthesis = time.perf_counter() - began
        if not plan.words:
            return True
        await self.link.wait_present()  # nobody to talk to while the visitor's connection is down
        segment = transcription.SpokenSegment(self.agent.identity, self.voice.id)
        delivered: list[str] = []
        cut = self._cut = asyncio.Event()
        start = self.voice.play(plan)  # first, so the first word's audio waits for nothing
        log.info(
            "call %s: synthesis %.0f ms; the line's audio starts at %.3f",
            self.call.call_id,
            synthesis * 1000,
            self.voice.at(start),
        )
        self.link.send_data(segment.open())
        await self._set_state("speaking")
        try:
            for word in plan.words:
                if await self._cut_before(start + word.start, cut) and start + word.start >= self._cut_at:
                    break  # the visitor spoke over it: this word was never played
                if not self.link.present:
                    break  # the visitor dropped mid-sentence: the rest goes unsaid (the room cut the voice)
                self.link.send_data(segment.word(word.text))
                delivered.append(word.text)
            else:
                await self._cut_before(start + plan.duration, cut)
            # Final, under the same segment id: the whole line, or as much of it as was heard.
            self.link.send_data(segment.close())
        finally:
            self._cut = None
            # Cut short (the call ended mid-sentence): the transcript keeps what was actually said.
            if delivered:
                self.call.add_transcript("assistant", "".join(delivered).strip())
        await self._set_state("listening")
        return not cut.is_set()

    @property
    def speaking(self) -> bool:
        return self._cut is not None and not self._cut.is_set()

    def interrupt(self) -> bool:
        """The visitor speaks over the assistant: stop the voice at once if interruptions are allowed."""
        if self._cut is None or self._cut.is_set():
            return True
        if not self.interruptible:
            return False
        self.voice.stop_speaking()
        self._cut_at = self.voice.now()
        self._cut.set()
        log.info("call %s: the visitor interrupted the assistant", self.call.call_id)
        return True

    def take_turn(self, heard: Heard) -> None:
        """A final turn of the visitor's, for the conversation to answer in its order of arrival."""
        self.turns.heard(heard)

    def typed(self, text: str) -> None:
        """The visitor typed ``text`` (``lk.chat``): a turn, which cuts the assistant short as LiveKit
        Agents' default text input does (``session.interrupt()``, then a reply to the text), unless
        interruptions are off."""
        if not self.turns.typed(text):
            log.info(
                "call %s: a typed message dropped, %d are waiting",
                self.call.call_id,
                self.turns.typed_waiting,
            )
            return
        self.interrupt()

    async def next_turn(self, *, silence: float | None = None) -> Heard | None:
        """Wait for the visitor's next turn (one already in the inbox is taken at once); with ``silence``,
        None once that many seconds passed without one begun."""
        await self._set_state("listening")
        while True:
            try:
                turn = await asyncio.wait_for(self.turns.next(), silence)
            except asyncio.TimeoutError:  # not yet the built-in TimeoutError on Python 3.10
                if self.ears.vad.in_speech:
                    continue  # they are speaking: their turn is on its way
                return None
            return self._typed_turn(turn) if isinstance(turn, Typed) else turn

    def _typed_turn(self, text: Typed) -> Heard:
        """A typed message as a final turn: in the transcript, and published on ``lk.transcription`` like a
        spoken final turn, so that every client in the room shows it, not only the one that typed it
        (LiveKit Agents leave that to the sender; the widget drops the echo). Typed words are certain."""
        segment_id = transcription.new_segment_id()
        for packet in transcription.heard_update(
            self.link.user_identity, self.link.user_track_sid, segment_id, str(text), final=True
        ):
            self.link.send_data(packet)
        self.call.add_transcript("user", str(text))
        return Heard(str(text), True, 0.0, words=str(text), confidence=(1.0,) * len(words(str(text))))

    async def hear(self, track: MediaStreamTrack) -> None:
        """Listen to the visitor's microphone track for as long as it lasts."""
        await self.listener.hear(track)

    async def _set_state(self, state: str) -> None:
        """As LiveKit Agents do: the state as the ``lk.agent.state`` attribute (and the server's
        active-speaker updates follow the speaking)."""
        if self.present and self.state != state:
            self.state = state
            if self.publish_state:
                self.agent.attributes[AGENT_STATE] = state
            await self.link.agent_changed()

    async def _cut_before(self, timeline_seconds: float, cut: asyncio.Event) -> bool:
        """Wait until the voice's timeline reaches ``timeline_seconds``; True if cut before (or already)."""
        delay = timeline_seconds - self.voice.now()
        if delay > 0 and not cut.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(cut.wait(), delay)
        return cut.is_set()
