"""Packaging: the metadata is in setup.cfg; this file only adds the build step that builds the widget.

Every package built from a checkout (``pip install .``, ``pip install git+…``, ``python -m build``) must carry
the built widget (``flask_hms_webcall/static/``), which is never committed. So ``sdist`` and ``build_py``
first build it with Node when it is missing or stale, and stop with a clear error when Node is not there:
never a package whose ``/hms/widget.js`` answers "not built". The sdist carries the built files and the
digest of the sources they came from (``widget/build/inputs.sha256``), so installing from it needs no Node.
Editable installs skip the step: they serve the checkout's ``static/``, which ``make widget`` keeps current.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import ExecError, PlatformError

ROOT = Path(__file__).resolve().parent
WIDGET = ROOT / "widget"
STATIC = ROOT / "flask_hms_webcall" / "static"
STAMP = WIDGET / "build" / "inputs.sha256"
MIN_NODE = 20  # the oldest Node the widget's build is tested with (widget/package.json "engines")
NO_NODE = (
    "flask-hms-webcall: building from a checkout builds the browser widget, which needs Node.js >= {min} "
    "and npm on PATH ({found}). Install Node.js (Debian/Ubuntu: apt-get install nodejs npm), or install "
    "a released wheel or sdist, which carry the built widget."
)


def widget_inputs_digest(widget: Path = WIDGET) -> str:
    """sha256 over the widget build's inputs, computed exactly as ``inputsDigest`` in widget/build.mjs."""
    files = [p.relative_to(widget).as_posix() for p in (widget / "src").rglob("*") if p.is_file()]
    files += ["build.mjs", "package.json", "package-lock.json"]
    digest = hashlib.sha256()
    for path in sorted(files):
        content = hashlib.sha256((widget / path).read_bytes()).hexdigest()
        digest.update(f"{path}\0{content}\n".encode())
    return digest.hexdigest()


def widget_built(static: Path = STATIC) -> bool:
    return (static / "widget.js").is_file() and any(static.glob("call-*.js"))


def widget_current(widget: Path = WIDGET, static: Path = STATIC) -> bool:
    """The built widget is there and was built from the sources as they are now."""
    if not widget_built(static):
        return False
    if not (widget / "package.json").is_file():
        return True  # no sources to compare with (not a checkout nor our sdist): the built files are it
    stamp = widget / "build" / "inputs.sha256"
    return stamp.is_file() and stamp.read_text().strip() == widget_inputs_digest(widget)


def _node_problem() -> str | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return "missing: " + " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
    answer = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    version = answer.stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < MIN_NODE:
        return f"found node {version or 'of unknown version'}"
    return None


def ensure_widget() -> None:
    """Builds the widget into flask_hms_webcall/static/ unless it is already built from these sources."""
    if widget_current():
        return
    if not (WIDGET / "package.json").is_file():
        raise PlatformError(
            "flask-hms-webcall: the built widget is missing and there are no widget sources to build it from"
        )
    problem = _node_problem()
    if problem:
        raise PlatformError(NO_NODE.format(min=MIN_NODE, found=problem))
    npm = shutil.which("npm") or "npm"
    steps = []
    if not (WIDGET / "node_modules" / ".package-lock.json").is_file():
        steps.append([npm, "ci", "--no-audit", "--no-fund"])
    steps.append([npm, "run", "--silent", "build"])
    for step in steps:
        print("flask-hms-webcall: building the widget:", " ".join(step[1:]), flush=True)
        env = {**os.environ, "npm_config_update_notifier": "false"}
        if subprocess.run(step, cwd=WIDGET, env=env, check=False).returncode != 0:  # noqa: S603 (fixed commands)
            raise ExecError(f"flask-hms-webcall: `npm {' '.join(step[1:])}` in widget/ failed (see above)")
    if not widget_current():
        raise ExecError(
            "flask-hms-webcall: the widget build finished but flask_hms_webcall/static/ is not current"
        )


class BuildPyWithWidget(build_py):
    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            ensure_widget()
            # The package data list may have been computed before the build wrote new files: compute it again.
            self.__dict__.pop("data_files", None)
            # An earlier in-tree build (pip install .) left its own call chunk in build/lib: only one ships.
            for chunk in Path(self.build_lib, "flask_hms_webcall", "static").glob("call-*.js"):
                chunk.unlink()
        super().run()


class SdistWithWidget(sdist):
    def run(self) -> None:
        ensure_widget()
        super().run()


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import it for widget_inputs_digest
    setup(cmdclass={"build_py": BuildPyWithWidget, "sdist": SdistWithWidget})
