"""Prints a pip constraints file pinning every dependency of the package at the floor setup.cfg declares.

``make test-deps`` installs with it (``pip install -c``), so the floors in setup.cfg are what is tested:
``name>=X`` in install_requires and in the runtime extras becomes ``name==X``. The dev extra (test tools) is
left free: its floors are not promises to users.
"""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

SETUP_CFG = Path(__file__).resolve().parent.parent / "setup.cfg"
# The speech extra is left free: its packages ship binaries whose old releases may not install here.
RUNTIME_EXTRAS = ("redis", "sandbox")
FLOOR = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def floors(setup_cfg: Path = SETUP_CFG) -> dict[str, str]:
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    lines = config["options"]["install_requires"].splitlines()
    for extra in RUNTIME_EXTRAS:
        lines += config["options.extras_require"][extra].splitlines()
    pins: dict[str, str] = {}
    for line in lines:
        match = FLOOR.match(line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


if __name__ == "__main__":
    sys.stdout.write("".join(f"{name}=={version}\n" for name, version in sorted(floors().items())))
