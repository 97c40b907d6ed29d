"""Prints how the sandbox converses, measured from a LiveKit client: turn latency, interruption, echo.

A visitor played by the official LiveKit Python SDK (tests/livekit_visitor.py) joins sandbox calls with the
token the sandbox's web-calls API gives, as the widget does, and speaks eSpeak NG speech into its
microphone in real time:

* **turns and interruptions**: it asks "what are your opening hours", and one second after the answer's
  first audio asks something else over it, and so on, alternating. Each question gives a turn latency (end
  of the visitor's speech → first audio of the answer, both at the client) and each one said over an answer
  an interruption delay (onset of the visitor's speech → the assistant's audio stops, at the client). The
  turn latency's breakdown comes from the sandbox's log: the end of the turn (silence after the last voiced
  frame), recognition, the rule and synthesis; the rest (``transport``) is the network both ways, the
  client's jitter buffer and the first audio packet. An interruption's delay is split the same way: the
  speech reaching the sandbox, the time until it took the floor (the assistant was asked to yield), and
  the voice going quiet at the client.
* **echo**: the assistant's voice as received is mixed back into the microphone 50, 150 and 300 ms late at
  -10 dB (a laptop's speaker and microphone, the browser's echo cancellation off), while the visitor asks
  one question and then listens: it must cause no interruption and no words. Then the same with the
  visitor talking over the answer, which must still interrupt it.

Run inside the tests' network namespace (libwebrtc needs an interface other than loopback, which
tests/livekit_visitor.py adds there):

    sh tests/isolated.sh python benchmarks/conversation.py [--rounds N]

Figures only; nothing here passes or fails a test. A busy machine adds to every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from flask_hms_webcall.sandbox.media import espeak  # noqa: E402
from tests.fixtures.sandbox import SandboxProcess  # noqa: E402
from tests.livekit_visitor import Spoken, Visitor, reachable_network  # noqa: E402

QUESTIONS = ("What are your opening hours?", "Can I speak to a person?")
OVER_ANSWER = 1.0  # seconds into an answer when the visitor talks over it
ECHO_DELAYS = (0.05, 0.15, 0.3)
ECHO_GAIN = 10 ** (-10 / 20)


def speech(text: str) -> np.ndarray:
    plan = espeak.synthesize(text)
    assert plan is not None, "eSpeak NG is needed (pip install -e .[sandbox-speech])"
    return plan.pcm


def breakdown(log: str, spoken: list[Spoken], first_audio: list[float]) -> dict[str, list[float]]:
    """Each turn's latency in its parts, in seconds, from the sandbox's log (its monotonic clock is this
    process's): the visitor's speech reaching the sandbox, the silence that ends a turn, recognition, the
    rule, synthesis, the answer's first audio reaching the visitor."""
    ended = re.findall(
        r"last voiced frame arrived at ([\d.]+), its end at ([\d.]+), recognised at ([\d.]+)", log
    )
    rules = [int(ms) / 1000 for ms in re.findall(r": rule (\d+) ms", log)]
    lines = re.findall(r": synthesis (\d+) ms; the line's audio starts at ([\d.]+)", log)[
        1:
    ]  # not the greeting
    parts: dict[str, list[float]] = {
        "uplink": [], "end of turn": [], "recognition": [], "rule": [], "synthesis": [], "first packet": []
    }  # fmt: skip
    turns = zip(spoken, ended, rules, lines, first_audio, strict=False)
    for said, heard, rule, (synthesis, starts), first in turns:
        voiced, end, recognised = map(float, heard)
        parts["uplink"].append(voiced - said.end)
        parts["end of turn"].append(end - voiced)
        parts["recognition"].append(recognised - end)
        parts["rule"].append(rule)
        parts["synthesis"].append(int(synthesis) / 1000)
        parts["first packet"].append(first - float(starts))
    return parts


def interruption_breakdown(log: str, onsets: list[float], stopped: list[float]) -> dict[str, list[float]]:
    """Each interruption's delay in its parts, from the sandbox's log: the visitor's speech reaching the
    sandbox, the time until it took the floor (the assistant was asked to yield), and the voice going quiet
    at the visitor (the audio already on its way, the client's jitter buffer, the quiet that counts)."""
    took_floor = r"speech that reached the sandbox at ([\d.]+) took the floor at ([\d.]+)"
    floors = [tuple(map(float, found)) for found in re.findall(took_floor, log)]
    parts: dict[str, list[float]] = {"uplink": [], "taking the floor": [], "voice stops": []}
    for onset, stop in zip(onsets, stopped, strict=True):
        # The first utterance that reached the sandbox after this onset and took the floor before the stop.
        taken = next(((at, took) for at, took in floors if onset <= at and took <= stop), None)
        if taken is None:
            continue
        reached, took = taken
        parts["uplink"].append(reached - onset)
        parts["taking the floor"].append(took - reached)
        parts["voice stops"].append(stop - took)
    return parts


async def call(sandbox: SandboxProcess, *, echo_delay: float = 0.0) -> Visitor:
    created = sandbox.create_call().json()
    visitor = Visitor()
    if echo_delay:
        visitor.echo(echo_delay, ECHO_GAIN)
    await visitor.join(created["server_url"], created["token"])
    await visitor.wait_for(lambda: visitor.assistant_lines(final=True), 30, "the greeting")
    await asyncio.sleep(1.5)  # the greeting's echo dies away
    return visitor


@dataclass
class Talk:
    spoken: list[Spoken] = field(default_factory=list)
    first_audio: list[float] = field(default_factory=list)  # of each answer, at the visitor
    delays: list[float] = field(default_factory=list)  # interruptions: onset -> the voice stops
    onsets: list[float] = field(default_factory=list)  # of the speech of each interruption
    problems: list[str] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return [first - said.end for said, first in zip(self.spoken, self.first_audio, strict=False)]


async def talk_over(visitor: Visitor, rounds: int) -> Talk:
    """Questions, each but the first said over the answer to the one before."""
    talk = Talk()
    lines = [speech(text) for text in QUESTIONS]
    # The answers of this talk only: the call may already hold the greeting and earlier answers (the echo
    # run talks over answers after one it heard whole).
    earlier = max(1, len(visitor.assistant_lines(final=True)))
    for n in range(rounds):
        spoken = await visitor.say(lines[n % 2])
        if n:
            stopped = visitor.audio_stopped_after(spoken.onset, quiet=0.5)
            listening = [at for at, s in visitor.state_after(spoken.onset) if s == "listening"]
            if stopped is None or not listening:
                talk.problems.append(f"round {n}: the answer was not interrupted")
            else:
                talk.delays.append(stopped - spoken.onset)
                talk.onsets.append(spoken.onset)
        # The answer's first audio: after the state turned to speaking for it (the line talked over may
        # still be heard when the visitor stops, if it was not interrupted).
        speaking = await visitor.wait_for(
            lambda s=spoken: next((at for at, x in visitor.state_after(s.end) if x == "speaking"), None),
            15,
            "the answer",
        )
        first = await visitor.wait_for(lambda t=speaking: visitor.first_audio_after(t - 0.05), 15, "voice")
        talk.spoken.append(spoken)
        talk.first_audio.append(first)
        await asyncio.sleep(max(0.0, first + OVER_ANSWER - time.monotonic()))
    await asyncio.sleep(6)  # the last answer, whole
    cut = [t.text for t in visitor.assistant_lines(final=True)[earlier:-1]]
    if len(cut) != rounds - 1 or any(len(text) >= 60 for text in cut):
        talk.problems.append(f"the answers' final transcripts are not truncated as heard: {cut}")
    return talk


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s" if values else "-"


async def main(rounds: int) -> None:
    if not reachable_network():
        sys.exit("run inside tests/isolated.sh (the LiveKit SDK needs a non-loopback interface there)")
    espeak.seed(1)
    sandbox = SandboxProcess()
    try:
        visitor = await call(sandbox)
        talk = await talk_over(visitor, rounds)
        await visitor.leave()
        print(f"turn latency, end of speech -> first audio of the answer: median {median(talk.latencies)}")
        print(f"  {len(talk.latencies)} turns: " + " ".join(f"{x:.2f}" for x in talk.latencies))
        for name, values in breakdown(sandbox.output(), talk.spoken, talk.first_audio).items():
            print(f"  {name:<13} median {median(values)}")
        print(f"interruption, onset of speech -> the assistant's audio stops: median {median(talk.delays)}")
        print(f"  {len(talk.delays)} interruptions: " + " ".join(f"{x:.2f}" for x in talk.delays))
        stops = [onset + delay for onset, delay in zip(talk.onsets, talk.delays, strict=True)]
        for name, values in interruption_breakdown(sandbox.output(), talk.onsets, stops).items():
            print(f"  {name:<16} median {median(values)}")
        for problem in talk.problems:
            print(f"  PROBLEM: {problem}")

        for delay in ECHO_DELAYS:
            visitor = await call(sandbox, echo_delay=delay)
            before = sandbox.output().count("interrupted the assistant")
            await visitor.say(speech(QUESTIONS[0]))
            with contextlib.suppress(AssertionError):  # no answer at all shows below
                await visitor.wait_for(
                    lambda v=visitor: len(v.assistant_lines(final=True)) >= 2, 20, "answer"
                )
            await asyncio.sleep(2.0)
            interrupted = sandbox.output().count("interrupted the assistant") - before
            heard = [t.text for t in visitor.visitor_lines(final=True)]
            answer = visitor.assistant_lines(final=True)[-1].text
            print(
                f"echo {delay * 1000:.0f} ms late at {20 * np.log10(ECHO_GAIN):.0f} dB: "
                f"{interrupted} interruptions, visitor turns {heard} (1 expected), answer whole: "
                f"{answer.endswith('two.')}"
            )
            if delay == ECHO_DELAYS[1]:
                talk = await talk_over(visitor, 4)
                print(
                    f"  talked over, echo on: interruption median {median(talk.delays)} {talk.problems or ''}"
                )
            await visitor.leave()
    finally:
        sandbox.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8, help="questions in the interruption run")
    asyncio.run(main(parser.parse_args().rounds))
