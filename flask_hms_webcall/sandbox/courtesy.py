"""The small words of a conversation: yes, no, thanks, goodbye, and when a goodbye is meant.

Ending a call nobody asked to end is the worst thing the assistant can do, and the recogniser writes short
words it knows ("bye") for the end of words it does not ("thank you kindly", "a restaurant nearby"). So a
goodbye ends the call only when the whole turn is a goodbye: its other words are words people say around
one (:data:`AROUND_GOODBYE`), and it does not rest on one short word after a thanks ("thank you ... bye"),
unless the recogniser said it was sure of that word. Anything else is a sentence about something else, or a
goodbye worth checking ("Anything else I can help with?"): one that ends the turn although the other words
are not a goodbye's is checked, never acted on (the ears may have misheard those words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .numbers import Reading

YES = frozenset({
    "yes", "yeah", "yep", "yup", "yea", "correct", "right", "exactly", "sure", "ok", "okay", "absolutely",
    "definitely", "indeed", "mhm", "affirmative", "true",
})  # fmt: skip
NO = frozenset({"no", "nope", "nah", "wrong", "incorrect", "not", "negative"})
NOTHING = frozenset({"no", "nope", "nah", "nothing", "not"})  # "anything else?" "no, nothing"
THANKS = frozenset({"thank", "thanks", "cheers", "ta"})
# Words people say around a yes, a no or a goodbye ("yes that is right please", "okay thanks a lot, bye
# then"); any other word makes the turn about something else.
AROUND_GOODBYE = frozenset({
    "ok", "okay", "alright", "all", "right", "well", "so", "oh", "then", "now", "for", "today", "tonight",
    "thanks", "thank", "you", "very", "much", "lot", "lots", "a", "great", "good", "cheers", "that", "is",
    "it", "this", "everything", "have", "nice", "day", "evening", "morning", "afternoon", "see", "later",
    "talk", "soon", "again", "and", "lovely", "perfect", "brilliant", "awesome", "wonderful", "many",
    "million", "your", "help", "the", "i", "am", "was", "me", "take", "care", "fine", "just", "really",
    "kind", "kindly", "appreciate", "please", "sir", "madam", "done", "else", "more", "no", "nope", "yes",
    "yeah", "nothing", "know",  # "know": what the ears make of "no"
})  # fmt: skip
_AROUND_ANSWER = AROUND_GOODBYE | {
    "what", "said", "think", "be", "number", "order", "go", "ahead", "check", "look", "up", "do", "my",
}  # fmt: skip
_VOWELS = re.compile(r"[aeiouy]+")


def only(words: Iterable[str], wanted: frozenset[str]) -> bool:
    """Whether every one of ``words`` is in ``wanted`` or a word said around it."""
    return all(w in wanted or w in _AROUND_ANSWER for w in words)


def is_yes(words: Sequence[str]) -> bool:
    """A turn that says yes and nothing else ("yes that is right", "yeah correct thanks")."""
    return any(w in YES for w in words) and not any(w in NO for w in words) and only(words, YES)


def is_no(words: Sequence[str]) -> bool:
    """A turn that says no and nothing else ("no", "no that is wrong", "nope")."""
    return any(w in NO for w in words) and only(words, NO | YES)


def is_nothing_else(words: Sequence[str]) -> bool:
    """The answer to "anything else?" that ends a call: "no", "no thanks", "nothing else", "nope"."""
    return any(w in NOTHING for w in words) and only(words, NOTHING)


def about_goodbye(words: Sequence[str], hits: Sequence[tuple[int, int]]) -> bool:
    """Whether a turn with a goodbye phrase at each of ``hits`` (word ranges) is about saying goodbye: its
    other words are words people say around one ("okay, thanks a lot, bye"), not a sentence about something
    else ("can you recommend a good restaurant nearby" heard with a "bye")."""
    inside = {k for start, end in hits for k in range(start, end)}
    # The ears split a "goodbye" they did not quite catch: "alright look bye then", "of bye".
    split = {start - 1 for start, end in hits if end - start == 1}
    return bool(hits) and all(k in inside or k in split or w in AROUND_GOODBYE for k, w in enumerate(words))


def said_last(words: Sequence[str], hits: Sequence[tuple[int, int]]) -> bool:
    """Whether the last of ``hits`` (word ranges) ends the turn: "... let you go, bye"."""
    return bool(hits) and hits[-1][1] == len(words)


def goodbye_meant(said: Reading, hits: Sequence[tuple[int, int]]) -> bool:
    """Whether a turn about goodbye (see :func:`about_goodbye`) surely is one, or may be a misheard thanks.

    With the recogniser's confidences: its goodbye words are all sure. Without: it does not rest on one
    short word after a thanks ("thank you bye" may be "thank you kindly"); "bye", "goodbye", "bye bye" and
    "that is all, thanks, bye" are sure.
    """
    if said.measured:
        return all(said.sure[k] for start, end in hits for k in range(start, end))
    if len(hits) != 1:
        return True
    start, end = hits[0]
    short = end - start == 1 and len(_VOWELS.findall(said.words[start])) == 1
    return not (short and any(w in THANKS for w in said.words[:start]))
