"""Prints how well the sandbox's ears hear its own voice: word error rate over the default rules' phrases.

Each example sentence of the default assistant's rules is spoken by eSpeak NG (as the assistant would say
it), fed 20 ms frame by frame through the same ears a call uses (energy turn detection, then PocketSphinx
with the assistant's language model), and compared with what was said. The goal: every phrase is heard well
enough to trigger its own rule ("rule ok"). Also run as ``python benchmarks/speech_wer.py [--voice en]``.
Figures only; nothing here passes or fails a test.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import FRAME_SAMPLES, SAMPLE_RATE
from flask_hms_webcall.sandbox.media.ears import SpeechEars


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def hear(ears: SpeechEars, pcm: np.ndarray) -> str:
    quiet = np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.int16)
    audio = np.concatenate([quiet, pcm, quiet])
    finals = []
    for offset in range(0, len(audio), FRAME_SAMPLES):
        finals += [h.words for h in ears.feed(audio[offset : offset + FRAME_SAMPLES], SAMPLE_RATE) if h.final]
    return " ".join(w for w in finals if w)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default=espeak.DEFAULT_VOICE, help="eSpeak NG voice (%(default)s)")
    args = parser.parse_args()
    if not (espeak.available() and recognizer.available()):
        print("speech_wer: the speech packages are not installed (pip install -e '.[sandbox-speech]')")
        return 0
    brain = Brain(parse_rules(DEFAULT_RULES))
    started = time.perf_counter()
    ears = SpeechEars(brain.phrases())
    load = time.perf_counter() - started
    errors = words = triggered = 0
    phrases = [(rule, example) for rule in brain.rules for example in rule.examples]
    print(f"{'said':<46} {'heard':<46} {'WER':>5}  rule")
    recognising = 0.0
    audio_seconds = 0.0
    for rule, example in phrases:
        plan = espeak.synthesize(example, [args.voice])
        audio_seconds += plan.duration
        started = time.perf_counter()
        heard = hear(ears, plan.pcm)
        recognising += time.perf_counter() - started
        ref, hyp = example.lower().split(), heard.split()
        distance = edit_distance(ref, hyp)
        errors, words = errors + distance, words + len(ref)
        ok = brain.decide(heard).rule is rule
        triggered += ok
        print(f"{example:<46} {heard:<46} {distance / len(ref):5.0%}  {'ok' if ok else 'MISSED'}")
    print(
        f"\nword error rate {errors / words:.1%} over {len(phrases)} phrases ({words} words); "
        f"{triggered}/{len(phrases)} triggered their rule"
    )
    print(
        f"recogniser load {load:.2f} s; recognition {recognising:.2f} s for {audio_seconds:.1f} s of speech "
        f"(real-time factor {recognising / audio_seconds:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
