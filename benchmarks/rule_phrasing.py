"""Prints how well the default rules understand sentences as people write them out: no audio, the words alone.

The sentences are in ``benchmarks/data/rule_phrasing.json``: ``tuning`` (what the rules' phrases were tuned
on) and ``held_out`` (written first, never tuned on: add to it, never tune on it). The held-out set is
reported as totals only, as ``speech_wer.py`` reports its own: a sentence it misses is never printed, so
nobody tunes the phrases to it. Each sentence goes to a fresh brain of the default rules, as a visitor's
first turn. Reported per set:

* right rule: the rule it should trigger, with the right order number for ``lookup_order`` and a hang-up
  exactly when one is meant;
* checked: the assistant asked back instead ("Order 300, is that right?"), then a "yes" gave the right
  tool call (a careful answer, counted apart from right and from wrong);
* wrong tools / wrong arguments: a tool nobody asked for, or the right tool with another number, goal 0;
* unasked hang-ups: the call ended though the visitor did not say goodbye, goal 0.

``benchmarks/speech_wer.py`` measures the same through the ears (audio); this measures the rules alone.
Run as ``python benchmarks/rule_phrasing.py [--verbose]``. Figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules

DATA = Path(__file__).parent / "data" / "rule_phrasing.json"


def load() -> dict[str, list[dict[str, Any]]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return {"held_out": data["held_out"], "tuning": data["tuning"]}


@dataclass(frozen=True)
class Verdict:
    shown: str  # ok, checked, missed, WRONG TOOL, WRONG ARGUMENTS, UNASKED HANG-UP

    @property
    def right(self) -> bool:
        return self.shown == "ok"


def judge(sentence: dict[str, Any]) -> Verdict:
    """How a fresh brain of the default rules takes one sentence (and a "yes" if it asks back)."""
    brain = Brain(parse_rules(DEFAULT_RULES))
    rule, order_id = sentence["rule"], sentence.get("order_id")
    hang_up = sentence.get("hang_up", False)
    decision = brain.decide(sentence["said"])
    meant = rule is not None and decision.rule is not None and rule in decision.rule.when
    if decision.hang_up and not hang_up:
        return Verdict("UNASKED HANG-UP")
    if decision.tool is not None and not meant:
        return Verdict("WRONG TOOL")
    if decision.tool is not None and order_id is not None and decision.arguments != {"order_id": order_id}:
        return Verdict("WRONG ARGUMENTS")
    if rule is None:
        return Verdict("ok" if decision.rule is None else "missed")
    if not meant or decision.hang_up != hang_up:
        return Verdict("missed")
    if order_id is None or decision.tool is not None:
        return Verdict("ok")
    checked = brain.decide("yes")
    right = checked.tool is not None and checked.arguments == {"order_id": order_id}
    return Verdict("checked" if right else "missed")


def measure(name: str, sentences: list[dict[str, Any]], verbose: bool, *, held_out: bool = False) -> None:
    verdicts = [judge(s) for s in sentences]
    print(f"{name}: {len(sentences)} sentences" + (" (totals only)" if held_out else ""))
    for sentence, verdict in zip(sentences, verdicts, strict=True):
        if not held_out and (verbose or not verdict.right):
            print(f"  {sentence['said']:<66} {sentence['rule'] or 'fallback':<9} {verdict.shown}")
    counts = {shown: sum(v.shown == shown for v in verdicts) for shown in ("ok", "checked", "missed")}
    bad = {shown: sum(v.shown == shown for v in verdicts) for shown in ("WRONG TOOL", "WRONG ARGUMENTS")}
    hang_ups = sum(v.shown == "UNASKED HANG-UP" for v in verdicts)
    print(
        f"  right rule {counts['ok']}/{len(verdicts)} ({counts['ok'] / len(verdicts):.1%}), "
        f"checked {counts['checked']}, missed {counts['missed']}, wrong tools {bad['WRONG TOOL']}, "
        f"wrong arguments {bad['WRONG ARGUMENTS']}, unasked hang-ups {hang_ups}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--verbose", action="store_true", help="print every tuning sentence, not only the misses"
    )
    args = parser.parse_args()
    sets = load()
    measure("tuning set", sets["tuning"], args.verbose)
    measure("held-out set", sets["held_out"], args.verbose, held_out=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
