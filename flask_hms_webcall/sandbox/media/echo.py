"""Tells the visitor's voice from the assistant's own voice coming back through the visitor's microphone.

A laptop's speaker plays the assistant, its microphone picks it up a little later (50 to 300 ms of
playout and air, plus the network both ways and the browser's jitter buffer, which stretches and squeezes
the voice as it adapts) and quieter, and a browser without echo cancellation sends it back. Heard as
speech, it would interrupt the assistant, or be answered.

The sandbox knows exactly what it played and when, so each 20 ms frame of the microphone is compared, band
by band, with the loudest the echo could be: the loudest played frame of the last ``MAX_DELAY`` seconds,
times the echo's gain. A frame is the visitor's (``near_end``) when enough of its energy lies well above
that bound. The gain is learnt as the call goes, from the frames heard while the visitor is not speaking (a
high percentile of their ratio to the bound); until the first echo is heard it is 1 (the visitor must be
louder than the assistant's own voice to be heard over it).
When the microphone stays quiet through a second and more of the voice, there is no echo to fear (a
headset, a browser's echo canceller): every frame is the visitor's from then on. The echo is looked for up
to ``MAX_DELAY`` after the voice: a jitter buffer grown on a busy machine delays it well past a second.
"""

from __future__ import annotations

import collections

import numpy as np

FRAME = 0.02  # seconds: both sides are judged in 20 ms slots of the event loop clock
# Seconds from a frame going out to its echo coming in: a browser's jitter buffer alone can grow past a
# second on a busy machine, and an echo judged as the visitor's after its window would be answered.
MAX_DELAY = 3.0
ECHO_ARRIVES = 1.0  # an echo comes within this long on any usable connection (for telling there is none)
BANDS_HZ = np.geomspace(150.0, 6000.0, 13)  # 12 bands over the voice's range
# A band is the visitor's when its energy is this much (6 dB) above the bound there: room for the codec's
# and the room's colouring of the echo, and for the gain's error.
MARGIN = 4.0
NEAR_END_SHARE = 0.35  # the share of the frame's energy that must lie in bands above the bound
QUIET = (32767 * 10 ** (-50 / 20)) ** 2  # mean power of a played frame under -50 dBFS: no echo to fear
HEARD = (32767 * 10 ** (-45 / 20)) ** 2  # a microphone frame over -45 dBFS holds something
NO_ECHO_FRAMES = 50  # a second of quiet microphone while an echo would have come: there is none
_GAIN_FRAMES = 150  # the gain is the high end of the last 3 s of loud microphone frames' ratios
_GAIN_PERCENTILE = 90
_GAIN_MIN_FRAMES = 10


def band_energies(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mean power per band of a frame of int16 samples (zeros for silence)."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    if not len(x):
        return np.zeros(len(BANDS_HZ) - 1)
    power = np.abs(np.fft.rfft(x)) ** 2 / len(x) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    index = np.searchsorted(BANDS_HZ, freqs) - 1
    inside = (index >= 0) & (index < len(BANDS_HZ) - 1)
    return np.bincount(index[inside], weights=power[inside], minlength=len(BANDS_HZ) - 1)


def _slot(t: float) -> int:
    return int(round(t / FRAME))


class EchoGuard:
    """Keeps what the assistant played; judges each microphone frame against it.

    ``played(t, samples, rate)`` as each frame of the assistant's voice goes out; ``near_end(samples,
    rate, t)`` for each frame that comes in (``t``: the event loop time, the same clock for both).
    """

    def __init__(self) -> None:
        self._played: collections.deque[tuple[int, np.ndarray]] = collections.deque()  # loud frames only
        self._ratios: collections.deque[float] = collections.deque(maxlen=_GAIN_FRAMES)
        self.gain = 1.0  # the echo's power against the bound
        self.echo_free = False
        self._echo_heard = False
        self._voice_since: int | None = None  # the first slot of the voice since the last long silence
        self._quiet = 0
        self._mic_since: int | None = None  # the first slot the microphone sent since it last fell silent
        self._mic_last = 0

    def played(self, t: float, samples: np.ndarray, rate: int) -> None:
        bands = band_energies(samples, rate)
        slot = _slot(t)
        if float(bands.sum()) >= QUIET:
            if not self._played:
                self._voice_since = slot
            self._played.append((slot, bands))
        while self._played and self._played[0][0] < slot - MAX_DELAY / FRAME:
            self._played.popleft()

    def _window(self, slot: int) -> list[np.ndarray]:
        """The played frames whose echo may be in the microphone's frame at ``slot``: those of the last
        ``MAX_DELAY``, but none played before the microphone (re)started sending (published late,
        unmuted, a rejoin), which it was not there to pick up."""
        first = slot - MAX_DELAY / FRAME
        if self._mic_since is not None:
            first = max(first, self._mic_since)
        return [bands for s, bands in self._played if first <= s <= slot]

    def echo_possible(self, t: float) -> bool:
        """Whether the assistant's echo may be in the microphone at ``t``."""
        return not self.echo_free and bool(self._window(_slot(t)))

    def near_end(self, samples: np.ndarray, rate: int, t: float, *, learn: bool = True) -> bool:
        """Whether the frame holds sound the assistant's echo does not explain (any sound, when nothing
        was played lately). ``learn=False`` while the visitor may be speaking: their voice over the echo
        would raise the gain until it hid them."""
        slot = _slot(t)
        if self._mic_since is None or slot - self._mic_last > ECHO_ARRIVES / FRAME / 2:
            self._mic_since = slot
        self._mic_last = slot
        window = self._window(slot)
        if not window:
            return True
        heard = band_energies(samples, rate)
        total = float(heard.sum())
        if total < HEARD:
            self._count_quiet(slot)
            return False
        if self.echo_free:
            return True
        bound = np.max(window, axis=0)
        above = heard > MARGIN * self.gain * bound
        near = float(heard[above].sum()) >= NEAR_END_SHARE * total
        self._echo_heard |= not near
        if learn:
            self._ratios.append(total / max(float(bound.sum()), 1e-9))
            if len(self._ratios) >= _GAIN_MIN_FRAMES:
                self.gain = float(np.percentile(self._ratios, _GAIN_PERCENTILE))
        return near

    def _count_quiet(self, slot: int) -> None:
        """A quiet microphone frame: after a second of them, while an echo would have been heard, none."""
        if self._echo_heard or self._voice_since is None:
            return
        if slot - self._voice_since >= ECHO_ARRIVES / FRAME:
            self._quiet += 1
            self.echo_free = self._quiet >= NO_ECHO_FRAMES
