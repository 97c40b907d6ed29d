"""An offline stand-in for HMS Sovereign web calls: the HMS API face and a LiveKit-compatible media face.

Run it with ``python -m flask_hms_webcall.sandbox`` (see ``--help``), or in-process with
:func:`start_in_thread`. It needs the ``[sandbox]`` extra.
"""

from .config import SandboxConfig, config_from_args
from .server import SandboxHandle, create_app, run, start_in_thread

__all__ = ["SandboxConfig", "SandboxHandle", "config_from_args", "create_app", "run", "start_in_thread"]
