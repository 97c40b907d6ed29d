"""``python -m flask_hms_webcall.sandbox``: serve the sandbox until Ctrl+C (or SIGTERM)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from .config import EXTRA_MODULES, INSTALL_EXTRA, PROG, config_from_args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = config_from_args(argv)
    except ValueError as exc:
        print(f"usage: {PROG} [options]  (see --help)\n{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        # The media face (aiortc, livekit-protocol, numpy) is imported here too, not only when the server
        # builds its routes, so a missing requirement is this one line rather than a traceback.
        from . import media  # noqa: F401
        from .server import run
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in EXTRA_MODULES:
            raise  # not the extra's: a bug, which keeps its traceback
        print(
            f"{PROG}: error: the sandbox needs the [sandbox] extra ({missing} is missing): {INSTALL_EXTRA}",
            file=sys.stderr,
        )
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(config)
    except OSError as exc:
        print(
            f"{PROG}: error: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
