"""An offline stand-in for HMS Sovereign web calls: the HMS API face and a LiveKit-compatible media face.

Run it with ``python -m flask_hms_webcall.sandbox`` (see ``--help``), or in-process with
:func:`start_in_thread`. It needs the ``[sandbox]`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import SandboxConfig, config_from_args

if TYPE_CHECKING:
    from .server import SandboxHandle, create_app, run, start_in_thread

__all__ = ["SandboxConfig", "SandboxHandle", "config_from_args", "create_app", "run", "start_in_thread"]

_SERVER_NAMES = frozenset({"SandboxHandle", "create_app", "run", "start_in_thread"})


def __getattr__(name: str) -> Any:
    # The server (aiohttp, aiortc, ...) loads on first use, so `python -m flask_hms_webcall.sandbox` gets as
    # far as __main__, which can tell a user without the [sandbox] extra what to install.
    if name in _SERVER_NAMES:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
