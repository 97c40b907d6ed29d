"""The data channel the assistant's packets (transcriptions, agent state) go out on."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["DataLink"]

log = logging.getLogger("flask_hms_webcall.sandbox.media")


class DataLink:
    """The reliable data channel the assistant's packets go out on; packets wait until it is open."""

    def __init__(self) -> None:
        self._channel: Any = None
        self._backlog: list[bytes] = []
        self.ready = asyncio.Event()

    @property
    def attached(self) -> bool:
        return self._channel is not None

    def attach(self, channel: Any) -> None:
        self._channel = channel
        if channel.readyState == "open":
            self._opened()
        else:
            channel.on("open", self._opened)

    def _opened(self) -> None:
        self.ready.set()
        backlog, self._backlog = self._backlog, []
        for packet in backlog:
            self.send(packet)

    def send(self, packet: bytes) -> None:
        channel = self._channel
        if channel is None or channel.readyState == "connecting":
            self._backlog.append(packet)
            return
        if channel.readyState != "open":
            return  # closed: the browser has gone
        try:
            channel.send(packet)
        except Exception as exc:  # closed between the check and the send
            log.debug("data channel send failed: %r", exc)
