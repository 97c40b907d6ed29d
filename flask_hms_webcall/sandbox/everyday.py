"""Everyday English of a phone call to a service desk: what the sandbox's ears expect besides the rules.

The recogniser knows only the words of its language model, and out-of-vocabulary speech comes out as the
nearest words it knows; this text gives it the words and word orders people use on such a call (greetings,
checking the line, asking, thanking, repairing, leaving) about the usual topics (orders and deliveries,
opening times, appointments, bills, accounts, returns, prices, a real person), so what people say around a
rule's key words, and what no rule is about, is heard as itself. Written for the purpose (no corpus was
copied); they live in ``everyday.txt`` beside this module, one sentence a line, lower case, no punctuation
but apostrophes.
"""

from __future__ import annotations

from importlib import resources

SENTENCES: tuple[str, ...] = tuple(
    line.strip()
    for line in resources.files(__package__).joinpath("everyday.txt").read_text(encoding="utf-8").splitlines()
    if line.strip()
)
