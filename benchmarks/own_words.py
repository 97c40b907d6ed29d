"""The speech benchmark's sentences in people's own words, its three voices and its babble of six talkers.

Requests for each of the default rules phrased as people phrase them (the rule's key word somewhere in a
sentence of their own, numbers said the ways people say them) and off-topic questions. ``OWN_HELD_OUT`` was
written first, before any tuning on ``OWN_TUNING``, and is only ever reported as totals: never tune on it,
never print its sentences' results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flask_hms_webcall.sandbox.media import espeak
from flask_hms_webcall.sandbox.media.audio import FRAME_SAMPLES, SAMPLE_RATE

# What is said, a `when` phrase of the rule meant (None: no rule), the order_id it should look up.
Sentence = tuple[str, str | None, str | None]

OWN_HELD_OUT: list[Sentence] = [
    ("hey there i'm trying to find out what happened to order five two nine", "order", "529"),
    ("could you see where parcel eight oh four has got to", "order", "804"),
    ("order number four hundred and sixty please", "order", "460"),
    ("i was told my package seven one six would ship yesterday", "order", "716"),
    ("can you give me an update on my order it's nine three eight", "order", "938"),
    ("my order is six double four", "order", "644"),
    ("i'm ringing about an order i placed it's two seven three", "order", "273"),
    ("what's going on with my parcel number one eight five", "order", "185"),
    ("what are your hours this weekend", "open", None),
    ("are you guys open over the holidays", "open", None),
    ("how early do you open in the morning", "open", None),
    ("can i come in on sunday or are you not open", "open", None),
    ("i'd like to speak to an actual human being", "person", None),
    ("is there someone i could talk to about a complaint", "person", None),
    ("please connect me with an agent", "person", None),
    ("that's all i needed thanks bye", "goodbye", None),
    ("alright then goodbye", "goodbye", None),
    ("okay cheers bye now", "goodbye", None),
    ("thanks that really helped", "thanks", None),
    ("oh lovely thank you", "thanks", None),
    ("hello is anyone on the line", "hello", None),
    ("hi there how are you doing", "hello", None),
    ("do you deliver to ireland", None, None),
    ("what colours does the jacket come in", None, None),
    ("i'd like to change my email address", None, None),
    ("is parking free near the shop", None, None),
    ("how do i reset my account", None, None),
]

OWN_TUNING: list[Sentence] = [
    ("hello i need to check on order six one nine", "order", "619"),
    ("where exactly is my parcel it's four four two", "order", "442"),
    ("can you find order number seven hundred and three", "order", "703"),
    ("my package two oh eight still hasn't come", "order", "208"),
    ("has order nine five one shipped yet", "order", "951"),
    ("could you track parcel three six seven for me please", "order", "367"),
    ("i'd like to know when order eight eight zero will arrive", "order", "880"),
    ("it's about my order one four nine", "order", "149"),
    ("any update on package five eight two", "order", "582"),
    ("please look up order number three one six", "order", "316"),
    ("what's happening with order seven two five", "order", "725"),
    ("i'm calling to ask about package nine oh six", "order", "906"),
    ("hi what time do you open on weekdays", "open", None),
    ("are you open late on friday", "open", None),
    ("what are the store hours today", "open", None),
    ("is the shop open on easter monday", "open", None),
    ("how long are you open for today", "open", None),
    ("can i please speak to a real human", "person", None),
    ("put me through to someone who can help", "person", None),
    ("i want to talk to an agent right now", "person", None),
    ("is there a person i can speak to", "person", None),
    ("okay that's all thank you bye", "goodbye", None),
    ("no that's everything goodbye", "goodbye", None),
    ("bye then", "goodbye", None),
    ("right i'll let you go bye", "goodbye", None),
    ("thanks ever so much", "thanks", None),
    ("thank you that's very kind", "thanks", None),
    ("brilliant thanks", "thanks", None),
    ("thank you for checking", "thanks", None),
    ("hello hello can you hear me ok", "hello", None),
    ("hi good evening", "hello", None),
    ("hey how's it going", "hello", None),
    ("what's your returns policy", None, None),
    ("do you have this in a bigger size", None, None),
    ("can i get a discount", None, None),
    ("where can i park", None, None),
    ("i want to change my delivery address", None, None),
    ("how much is shipping to france", None, None),
    ("is it going to rain later", None, None),
]


@dataclass(frozen=True)
class Voice:
    name: str
    voice: str
    pitch: int = 50  # eSpeak NG's pitch, 0-100 (50 is the voice's own)


VOICES = (
    Voice("US male", "en-us"),
    Voice("US female", "en-us+f3"),
    Voice("GB raised", "en-gb", pitch=75),
)
FAST = 1.3  # the fast rate, times eSpeak NG's default
BABBLE_DB = 20.0  # the babble this far under the speech

# Six other talkers, each reading its own text in its own voice, at once (a busy shop or café).
_TALKERS = (
    ("en-us", 60, 170, "the train to the city was late again so we walked along the river to the market"),
    ("en-gb+f2", 70, 160, "my sister bought a new car last month and drives it to the coast every weekend"),
    ("en-us+m3", 40, 185, "if you add a little salt to the water the pasta tastes much better when done"),
    ("en-gb", 50, 175, "the football match was cancelled because of the rain and nobody got a refund"),
    ("en-us+f4", 65, 165, "we should paint the kitchen yellow and put some plants by the window in spring"),
    ("en+m7", 45, 180, "the library closes early in winter so the students study in the cafe down the road"),
)


def _talker_audio() -> list[np.ndarray]:
    tracks = []
    for k, (voice, pitch, rate, text) in enumerate(_TALKERS):
        espeak.seed(9000 + k)
        plan = espeak.synthesize(f"{text}. {text}. {text}.", [voice], rate=rate, pitch=pitch)
        assert plan is not None
        tracks.append(plan.pcm.astype(np.float64))
    return tracks


_tracks: list[np.ndarray] = []


def babble(n: int, rms: float, seed: int) -> np.ndarray:
    """``n`` samples of six talkers at once, each from a seeded offset into its text, at ``rms``."""
    if not _tracks:
        _tracks.extend(_talker_audio())
    rng = np.random.default_rng(seed)
    mix = np.zeros(n)
    for track in _tracks:
        start = int(rng.integers(0, len(track)))
        mix += np.take(track, np.arange(start, start + n), mode="wrap")
    frames = mix[: n - n % FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    level = float(np.sqrt(np.mean(frames**2)))
    return mix * (rms / level) if level else mix


def fast_rate() -> int:
    return round(espeak.DEFAULT_RATE * FAST)


__all__ = ["BABBLE_DB", "OWN_HELD_OUT", "OWN_TUNING", "SAMPLE_RATE", "VOICES", "Voice", "babble", "fast_rate"]
