"""The visitor's turns as they reach the assistant: heard by its ears, or typed in the chat.

The conversation awaits :meth:`TurnInbox.next`. What the ears hear is only wanted while the assistant
listens (it is forgotten when a new turn begins); a typed message is a whole turn and waits for its answer,
up to :data:`TYPED_BACKLOG` of them (more are refused: a flood of messages is not a queue of work).
"""

from __future__ import annotations

import asyncio
import collections

from .ears import Heard

__all__ = ["TYPED_BACKLOG", "TurnInbox", "Typed"]

TYPED_BACKLOG = 3


class Typed(str):
    """A message the visitor typed: a final turn with no audio behind it."""


class TurnInbox:
    def __init__(self) -> None:
        self._items: collections.deque[Heard | Typed] = collections.deque()
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def typed_waiting(self) -> int:
        return sum(isinstance(item, Typed) for item in self._items)

    def heard(self, heard: Heard) -> None:
        self._items.append(heard)
        self._arrived.set()

    def typed(self, text: str) -> bool:
        """Take a typed message; False (and nothing kept) when :data:`TYPED_BACKLOG` are already waiting."""
        if self.typed_waiting >= TYPED_BACKLOG:
            return False
        self._items.append(Typed(text))
        self._arrived.set()
        return True

    def forget_heard(self) -> None:
        """Drop what the ears sent before now (a new turn begins); typed messages stay."""
        self._items = collections.deque(item for item in self._items if isinstance(item, Typed))

    async def next(self) -> Heard | Typed:
        while not self._items:
            self._arrived.clear()
            await self._arrived.wait()
        return self._items.popleft()
