"""``python -m flask_hms_webcall.sandbox``: serve the sandbox until Ctrl+C (or SIGTERM)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from .config import PROG, config_from_args
from .server import run


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = config_from_args(argv)
    except ValueError as exc:
        print(f"usage: {PROG} [options]  (see --help)\n{PROG}: error: {exc}", file=sys.stderr)
        return 2
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
