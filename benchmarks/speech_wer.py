"""Prints how well the sandbox's ears understand people: word error rate, right rules, wrong tool calls.

The sentences are *not* the default rules' own phrases: they are how people ask ("hi, could you tell me
where order one twenty three is"), each spoken by eSpeak NG in several voices (American, British, a female
variant), at a slower and a faster rate, and with room noise at 20 dB SNR. Each recording is fed 20 ms frame
by frame through the same ears a call uses (turn detection, then PocketSphinx), and the recognised words go
through the default rules as in a call. Reported per condition and overall:

* WER: the word error rate against what was said;
* right rule: the share of sentences that trigger the rule they should (with the right order number for
  ``lookup_order``), goal >= 90 %;
* wrong tools: a tool called that nobody asked for (a different tool, or a tool where none was meant),
  goal 0;
* wrong arguments: the right tool called with a misheard argument (another order number), kept apart from
  wrong tools so each shows; goal 0 too;
* words from silence and room noise alone, goal none.

Four sets of sentences are measured apart. ``UTTERANCES``, which the ears were first tuned on, and
``HELD_OUT``, written afterwards and never tuned on, in the seven conditions of ``CONDITIONS`` (every
turn's words joined). Then the own-words sets of ``own_words.py``: requests for each rule phrased as people
phrase them, and off-topic ones, said by three voices (an American male, an American female, a British
voice at a raised pitch) at the normal and a 1.3x rate, and at the normal rate under 20 dB babble of six
other eSpeak talkers; there the first final turn decides, as in a call, and two more counts show: hang-ups
nobody asked for (a goodbye heard in a sentence that said none) and sentences split into several turns.
``OWN_HELD_OUT`` was written before any tuning on ``OWN_TUNING``. A held-out set is only ever reported as
totals: its sentences' results are not printed (add to it, never tune on it).
eSpeak NG's random breath noise is seeded, so a run's figures repeat exactly. One set alone (``--only``)
gives other figures than a run of them all: the ears carry what they learnt (the speaker's level, pitch
and cepstral mean) from one sentence to the next, as in a call; the quoted figures are from a run of
``tuning`` with ``held-out`` and one of ``own-tuning`` with ``own-held-out``.

Run as ``python benchmarks/speech_wer.py [--verbose] [--only SET ...] [--condition TEXT]`` (``--condition``
keeps the conditions whose name holds TEXT, while tuning). Figures only; nothing here passes or fails a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from own_words import BABBLE_DB, OWN_HELD_OUT, OWN_TUNING, VOICES, Sentence, babble, fast_rate

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, Rule, parse_rules
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import FRAME_SAMPLES, SAMPLE_RATE
from flask_hms_webcall.sandbox.media.ears import Heard, SpeechEars

# (what is said, a `when` phrase of the rule it should trigger or None for the fallback, the tool's order_id)
UTTERANCES: list[Sentence] = [
    ("hi could you tell me the status of order one two three", "order", "123"),
    ("could you tell me where my order one twenty three is", "order", "123"),
    ("please check order four five six", "order", "456"),
    ("what's the status of order number seven eight nine please", "order", "789"),
    ("i would like to know about my order one two three", "order", "123"),
    ("where is the order four fifty six", "order", "456"),
    ("can you check on my parcel nine eight seven", "order", "987"),
    ("has my package two four six been sent", "order", "246"),
    ("hello i am calling about order three one four", "order", "314"),
    ("order five five five please", "order", "555"),
    ("what happened to order eight twenty one", "order", "821"),
    ("can you look up order six oh two for me", "order", "602"),
    ("i want to check an order", "order", None),
    ("when do you open tomorrow", "open", None),
    ("what time do you open on monday", "open", None),
    ("hi are you open today", "open", None),
    ("could you tell me your hours please", "open", None),
    ("how late are you open", "open", None),
    ("what are the opening hours on sunday", "open", None),
    ("could i speak to a real person please", "person", None),
    ("i would like to talk to someone", "person", None),
    ("is there a human i can talk to", "person", None),
    ("can you put me through to an agent", "person", None),
    ("okay bye", "goodbye", None),
    ("that's all goodbye", "goodbye", None),
    ("bye for now", "goodbye", None),
    ("no that is all thank you", "goodbye", None),
    ("alright goodbye then", "goodbye", None),
    ("thanks very much", "thanks", None),
    ("thank you so much for your help", "thanks", None),
    ("great thanks", "thanks", None),
    ("hello there", "hello", None),
    ("hi can you hear me", "hello", None),
    ("hey is anybody there", "hello", None),
    ("what is the weather like today", None, None),
    ("do you sell shoes", None, None),
]
# Written after the ears were tuned on UTTERANCES and never tuned on: how well the tuning generalises.
HELD_OUT: list[Sentence] = [
    ("good evening could you check order seven seven one for me", "order", "771"),
    ("i'd like an update on order number two nine four", "order", "294"),
    ("my parcel three eighty two hasn't arrived", "order", "382"),
    ("any news about package five oh nine", "order", "509"),
    ("yes i'm checking on order two one eight", "order", "218"),
    ("could you please look up parcel five seven three", "order", "573"),
    ("where's my package six forty", "order", "640"),
    ("order nine one five has not come yet", "order", "915"),
    ("i placed order three three seven last week", "order", "337"),
    ("is the shop open on saturday morning", "open", None),
    ("until what time are you open tonight", "open", None),
    ("what are your hours on friday", "open", None),
    ("are you open on bank holidays", "open", None),
    ("is the store open late on thursday", "open", None),
    ("i need to speak with a human please", "person", None),
    ("get me someone real", "person", None),
    ("let me talk to a person", "person", None),
    ("i'd rather speak to someone", "person", None),
    ("transfer me to an agent please", "person", None),
    ("ok thanks bye", "goodbye", None),
    ("that's all for today goodbye", "goodbye", None),
    ("okay that's all bye", "goodbye", None),
    ("bye bye", "goodbye", None),
    ("cheers thank you", "thanks", None),
    ("thanks a million", "thanks", None),
    ("thank you very much", "thanks", None),
    ("that's great thank you", "thanks", None),
    ("hello hello", "hello", None),
    ("hi good afternoon", "hello", None),
    ("hi is this the shop", "hello", None),
    ("hello good morning", "hello", None),
    ("can you recommend a good restaurant", None, None),
    ("i would like to book a table", None, None),
    ("how much does delivery cost", None, None),
    ("i forgot my password", None, None),
    ("can i pay by card", None, None),
]


@dataclass(frozen=True)
class Condition:
    name: str
    voice: str
    rate: int = espeak.DEFAULT_RATE
    snr_db: float | None = None  # room noise this far under the speech; None: a quiet room
    pitch: int = 50
    babble: bool = False  # the noise is six other talkers, not a room's


CONDITIONS = (
    Condition("en-us", "en-us"),
    Condition("en-gb", "en-gb"),
    Condition("en-us female", "en-us+f3"),
    Condition("en-us slow", "en-us", rate=130),
    Condition("en-us fast", "en-us", rate=230),
    Condition("en-us 20 dB noise", "en-us", snr_db=20.0),
    Condition("en-gb 20 dB noise", "en-gb", snr_db=20.0),
)
# The own-words sets: each voice at the normal and the fast rate, and at the normal rate under babble.
OWN_CONDITIONS = tuple(
    condition
    for v in VOICES
    for condition in (
        Condition(f"{v.name}, normal", v.voice, pitch=v.pitch),
        Condition(f"{v.name}, fast", v.voice, rate=fast_rate(), pitch=v.pitch),
        Condition(f"{v.name}, babble", v.voice, snr_db=BABBLE_DB, pitch=v.pitch, babble=True),
    )
)
LEAD_SECONDS = 1.0  # room sound before and after each sentence


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def room_noise(n: int, rms: float, seed: int) -> np.ndarray:
    """``n`` samples of pink-ish noise with a little mains hum (a ventilated room), at ``rms`` int16 units."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    noise += 0.3 * np.std(noise) * np.sin(2 * np.pi * 50 * np.arange(n) / SAMPLE_RATE)
    return noise * (rms / np.sqrt(np.mean(noise**2)))


def speech_rms(pcm: np.ndarray) -> float:
    """The level of the speech itself: the RMS over its 20 ms frames louder than -50 dBFS."""
    frames = pcm[: len(pcm) - len(pcm) % FRAME_SAMPLES].astype(np.float64).reshape(-1, FRAME_SAMPLES)
    levels = np.sqrt(np.mean(frames**2, axis=1))
    active = frames[levels > 32767 * 10 ** (-50 / 20)]
    return float(np.sqrt(np.mean(active**2))) if len(active) else 0.0


def recording(pcm: np.ndarray, condition: Condition, seed: int) -> np.ndarray:
    lead = np.zeros(int(LEAD_SECONDS * SAMPLE_RATE))
    audio = np.concatenate([lead, pcm.astype(np.float64), lead])
    if condition.snr_db is not None:
        rms = speech_rms(pcm) / 10 ** (condition.snr_db / 20)
        noise = babble if condition.babble else room_noise
        audio += noise(len(audio), rms, seed)
    return np.clip(audio, -32768, 32767).astype(np.int16)


def turns(ears: SpeechEars, audio: np.ndarray) -> list[Heard]:
    """Each final turn the ears give for ``audio`` (its ``words`` are "" for a turn without words)."""
    finals = []
    for offset in range(0, len(audio), FRAME_SAMPLES):
        finals += [h for h in ears.feed(audio[offset : offset + FRAME_SAMPLES], SAMPLE_RATE) if h.final]
    return finals


def hear(ears: SpeechEars, audio: np.ndarray) -> str:
    return " ".join(h.words for h in turns(ears, audio) if h.words)


@dataclass
class Tally:
    errors: int = 0
    words: int = 0
    right: int = 0
    said: int = 0
    checked: int = 0
    wrong_tools: int = 0
    wrong_arguments: int = 0
    hang_ups: int = 0
    split: int = 0

    def add(self, distance: int, words: int, verdict: Verdict, split: bool) -> None:
        self.errors += distance
        self.words += words
        self.right += verdict.right
        self.checked += verdict.checked
        self.said += 1
        self.wrong_tools += verdict.wrong_tool
        self.wrong_arguments += verdict.wrong_arguments
        self.hang_ups += verdict.unasked_hang_up
        self.split += split

    @staticmethod
    def header(name: str) -> str:
        return (
            f"{name:<20} {'WER':>6} {'right rule':>16} {'checked':>7} {'wrong tools':>11} "
            f"{'wrong arguments':>15} {'unasked hang-ups':>16} {'split':>5}"
        )

    def row(self, name: str) -> str:
        return (
            f"{name:<20} {self.errors / self.words:6.1%} {self.right:>4}/{self.said:<4} "
            f"{self.right / self.said:6.1%} {self.checked:>7} {self.wrong_tools:>11} "
            f"{self.wrong_arguments:>15} {self.hang_ups:>16} {self.split:>5}"
        )


@dataclass(frozen=True)
class Verdict:
    right: bool  # the rule it should trigger, with the right arguments
    wrong_tool: bool  # a tool nobody asked for
    wrong_arguments: bool  # the tool asked for, with a misheard argument
    unasked_hang_up: bool  # the assistant hangs up on a visitor who did not say goodbye
    # Not right at once, but the assistant asked back about the right number ("Order 529, is that right?"):
    # a "yes" calls the tool with it. Counted apart from right.
    checked: bool = False

    @property
    def shown(self) -> str:
        if self.right:
            return "ok"
        if self.checked:
            return "checked"
        if self.unasked_hang_up:
            return "HANGS UP"
        return "WRONG TOOL" if self.wrong_tool else "WRONG ARGUMENTS" if self.wrong_arguments else "missed"


def judge(
    rules: list[Rule],
    heard: str,
    confidence: tuple[float, ...],
    rule: str | None,
    order_id: str | None,
    alternatives: tuple[str, ...] = (),
) -> Verdict:
    """How the rules take one recognised sentence as a call's first turn (a brain of its own: a question
    one sentence asked back must not read the next as its answer), with the recogniser's confidence in
    each word and its next best readings as a call passes them (``()``: none)."""
    brain = Brain(rules)
    decision = brain.decide(heard, confidence or None, alternatives)
    meant = rule is not None and decision.rule is not None and rule in decision.rule.when
    right = decision.rule is None if rule is None else meant
    checked = False
    if meant and order_id is not None:
        right = decision.tool == "lookup_order" and decision.arguments == {"order_id": order_id}
        if decision.tool is None:
            answer = brain.decide("yes")
            checked = answer.tool == "lookup_order" and answer.arguments == {"order_id": order_id}
    called = decision.tool is not None and not right
    hang_up = decision.hang_up and rule != "goodbye"
    return Verdict(right, called and not meant, called and meant, hang_up, checked)


@dataclass
class Clock:
    recognising: float = 0.0
    audio: float = 0.0


@dataclass(frozen=True)
class SentenceSet:
    title: str
    sentences: list[Sentence]
    seed: int
    conditions: tuple[Condition, ...]
    held_out: bool  # reported as totals only: its sentences' results are never printed
    first_turn: bool  # the first final turn decides, as in a call (the older sets join every turn's words)


SETS = {
    "tuning": SentenceSet("tuning set", UTTERANCES, 0, CONDITIONS, False, False),
    "held-out": SentenceSet("held-out set", HELD_OUT, 500, CONDITIONS, True, False),
    "own-tuning": SentenceSet("own words, tuning", OWN_TUNING, 2000, OWN_CONDITIONS, False, True),
    "own-held-out": SentenceSet("own words, held out", OWN_HELD_OUT, 3000, OWN_CONDITIONS, True, True),
}


def measure(
    sentence_set: SentenceSet,
    new_ears: Callable[[], SpeechEars],
    rules: list[Rule],
    clock: Clock,
    verbose: bool,
    only: str | None,
) -> Tally:
    """Says every sentence in every condition, prints the misses (everything with ``verbose``; nothing for
    a held-out set) and a table."""
    total = Tally()
    conditions = [c for c in sentence_set.conditions if only is None or only in c.name]
    title, sentences, seed = sentence_set.title, sentence_set.sentences, sentence_set.seed
    print(f"{title}: {len(sentences)} sentences x {len(conditions)} conditions\n")
    if not sentence_set.held_out:
        print(f"{'condition':<20} {'said':<58} {'heard':<58} rule")
    per_condition = {}
    for condition in conditions:
        c = sentence_set.conditions.index(condition)
        tally = Tally()
        # Each condition is another caller: new ears, which learn the voice (its warp) and the room afresh,
        # as a call's do. Shared ears carried both from the sentences before, so a figure depended on which
        # sets and conditions ran ahead of it.
        ears = new_ears()
        for u, (said, rule, order_id) in enumerate(sentences):
            espeak.seed(seed + c * 1000 + u)
            plan = espeak.synthesize(said, [condition.voice], rate=condition.rate, pitch=condition.pitch)
            assert plan is not None
            audio = recording(plan.pcm, condition, seed=seed + c * 1000 + u)
            clock.audio += len(audio) / SAMPLE_RATE
            started = time.perf_counter()
            finals = turns(ears, audio)
            clock.recognising += time.perf_counter() - started
            kept = finals[:1] if sentence_set.first_turn else [h for h in finals if h.words]
            heard = " ".join(h.words for h in kept)
            # A confidence for every word of every turn kept, or none: as a call, which has one turn.
            confidence = sum((h.confidence for h in kept), ()) if all(h.confidence for h in kept) else ()
            ref = said.split()
            distance = edit_distance(ref, heard.split())
            alternatives = kept[0].alternatives if len(kept) == 1 else ()  # a call's turn has its own
            verdict = judge(rules, heard, confidence, rule, order_id, alternatives)
            tally.add(distance, len(ref), verdict, len(finals) > 1)
            total.add(distance, len(ref), verdict, len(finals) > 1)
            if not sentence_set.held_out and (verbose or not verdict.right):
                shown = " | ".join(h.words for h in finals) if len(finals) > 1 else heard
                print(f"{condition.name:<20} {said:<58} {shown:<58} {verdict.shown}")
        per_condition[condition.name] = tally
    print(f"\n{Tally.header('condition')}")
    for name, tally in per_condition.items():
        print(tally.row(name))
    print(total.row("all"))
    print()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every sentence, not only the misses")
    parser.add_argument(
        "--only", choices=tuple(SETS), action="append", help="measure this set of sentences (default: all)"
    )
    parser.add_argument("--condition", help="only the conditions whose name holds this (while tuning)")
    args = parser.parse_args()
    if not (espeak.available() and recognizer.available()):
        print("speech_wer: the speech packages are not installed (pip install -e '.[sandbox-speech]')")
        return 0
    rules = parse_rules(DEFAULT_RULES)
    brain = Brain(rules)

    def new_ears() -> SpeechEars:
        espeak.seed(0)  # the ears' warm-up sentence too: eSpeak's state carries over into the next sentence
        return SpeechEars(brain.phrases())

    started = time.perf_counter()
    ears = new_ears()
    load = time.perf_counter() - started
    clock = Clock()
    totals = {
        s.title: measure(s, new_ears, rules, clock, args.verbose, args.condition)
        for name, s in SETS.items()
        if not args.only or name in args.only
    }
    if len(totals) > 1:
        print(Tally.header("set"))
        for title, tally in totals.items():
            print(tally.row(title))

    quiet = {
        "digital silence": np.zeros(5 * SAMPLE_RATE, dtype=np.int16),
        "room noise (-50 dBFS)": room_noise(5 * SAMPLE_RATE, 32767 * 10 ** (-50 / 20), 1).astype(np.int16),
        "room noise (-40 dBFS)": room_noise(5 * SAMPLE_RATE, 32767 * 10 ** (-40 / 20), 2).astype(np.int16),
        "room noise (-30 dBFS)": room_noise(5 * SAMPLE_RATE, 32767 * 10 ** (-30 / 20), 3).astype(np.int16),
        "babble (-40 dBFS)": babble(5 * SAMPLE_RATE, 32767 * 10 ** (-40 / 20), 4).astype(np.int16),
    }
    print()
    for name, audio in quiet.items():
        heard = hear(ears, audio)
        print(f"{name:<22} heard: {heard or '(no words)'}")
    print(f"\nrecogniser load {load:.2f} s;", end="")
    print(f" recognition {clock.recognising:.1f} s for {clock.audio:.0f} s of audio", end="")
    print(f" (real-time factor {clock.recognising / clock.audio:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
