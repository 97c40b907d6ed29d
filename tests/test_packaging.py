"""The Python package as a user gets it: built from this checkout, installed into a fresh virtualenv.

The sdist and the wheel are built (``python -m build``, as a release would), each is installed into its own
new venv, and an app importing the installed package serves ``/hms/widget.js`` and the call chunk it
names. The sdist is installed with no Node on PATH: it must carry the built widget. And the build step in
setup.py (widget missing or stale -> build it with Node; no Node -> a clear error, no package) is checked
on a copy of the sdist.

Fast and offline: nothing is downloaded. ``--no-isolation`` builds with this venv's setuptools, and the
fresh venvs see this venv's packages (Flask, ...) through a .pth file while installing only ours
(``--no-deps``); every check makes sure the package it uses is the installed one, not this checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

from flask_hms_webcall import __version__
from tests.conftest import ROOT, require

DIST_NAME = f"flask_hms_webcall-{__version__}"

# Run inside an installed venv: an app on the installed package answers the two widget URLs.
SERVE_WIDGET = textwrap.dedent(
    """
    import json, re, sys
    import flask_hms_webcall
    from flask import Flask
    from flask_hms_webcall import HMSWebCall

    app = Flask("packaging-check")
    app.config.update(HMS_API_KEY="key", HMS_ASSISTANT_ID="6f0c3a8e-8f35-4a39-9a3e-3c1f0c7d2b11")
    HMSWebCall(app)
    client = app.test_client()
    loader = client.get("/hms/widget.js")
    chunk = re.search(rb"call-[A-Za-z0-9_-]+\\.js", loader.data)
    call = client.get("/hms/static/" + chunk.group().decode()) if chunk else None
    print(json.dumps({
        "package": flask_hms_webcall.__file__,
        "version": flask_hms_webcall.__version__,
        "loader": [loader.status_code, loader.mimetype, len(loader.data)],
        "chunk": chunk.group().decode() if chunk else None,
        "call": [call.status_code, call.mimetype, len(call.data)] if call else None,
    }))
    """
)


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def without_node_env() -> dict[str, str]:
    """This environment with a PATH that has Python but neither node nor npm."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir}


def fresh_venv(path: Path) -> Path:
    """A new venv that sees this venv's site-packages after its own (a .pth line), returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "dev-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def install(python: Path, target: Path, *, env: dict[str, str] | None = None) -> None:
    """pip (this venv's) installs ``target`` alone into the venv of ``python``, offline."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--quiet",
            str(target),
        ],
        cwd=target.parent,
        env=env,
    )


def serve_widget(python: Path, cwd: Path) -> dict:
    return json.loads(run([str(python), "-c", SERVE_WIDGET], cwd=cwd).stdout)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel, built from this checkout as `make dist` does."""
    # --no-isolation builds with this venv's setuptools and build, which the dev extra brings.
    require(importlib.util.find_spec("build") is not None, "`build` is not installed (pip install -e .[dev])")
    out = tmp_path_factory.mktemp("dist")
    # Without PYTHONDONTWRITEBYTECODE (which makes setuptools warn that it skips byte-compiling).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    args = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)]
    result = run(args, cwd=ROOT, env=env)
    log = result.stdout + result.stderr
    # Whatever setuptools warns about is a packaging mistake to fix, not noise (e.g. a data folder that is
    # "absent from the packages configuration").
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    assert warnings == [], "the build warns:\n" + "\n".join(warnings)
    return {"sdist": out / f"{DIST_NAME}.tar.gz", "wheel": out / f"{DIST_NAME}-py3-none-any.whl"}


@pytest.mark.packaging
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_package_serves_the_widget(dists: dict[str, Path], kind: str, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    # The sdist is built into a wheel by pip here, without Node: it must already carry the built widget.
    install(python, dists[kind], env=without_node_env())

    served = serve_widget(python, tmp_path)

    assert Path(served["package"]).is_relative_to(tmp_path / "venv"), served["package"]
    assert served["version"] == __version__
    assert served["loader"][:2] == [200, "text/javascript"]
    assert served["chunk"], "widget.js names no call chunk"
    assert served["call"][:2] == [200, "text/javascript"]
    assert served["call"][2] > 100_000, "the call chunk (with livekit-client) is suspiciously small"


@pytest.mark.packaging
def test_sdist_has_the_widget_its_sources_and_license_but_no_tests(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.removeprefix(f"{DIST_NAME}/") for name in sdist.getnames()}
    assert {"LICENSE", "flask_hms_webcall/static/widget.js", "widget/build/inputs.sha256"} <= names
    assert {"widget/package.json", "widget/package-lock.json", "widget/build.mjs", "setup.py"} <= names
    assert any(name.startswith("flask_hms_webcall/static/call-") for name in names)
    assert not [name for name in names if name.startswith("tests")], "docs/contributing.md: no tests in sdist"


@pytest.mark.packaging
def test_wheel_carries_the_data_files_the_package_reads_at_run_time(dists: dict[str, Path]) -> None:
    # Not Python, so only package_data puts them in the wheel: the Redis store's scripts and the sandbox
    # ears' everyday sentences (without them the sandbox's recogniser cannot start).
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
    package = Path(__file__).resolve().parent.parent / "flask_hms_webcall"
    wanted = [p.relative_to(package.parent).as_posix() for p in package.glob("store/lua/*.lua")]
    wanted.append("flask_hms_webcall/sandbox/everyday.txt")
    assert len(wanted) > 1
    assert [name for name in wanted if name not in names] == []


@pytest.fixture
def unpacked_sdist(dists: dict[str, Path], tmp_path: Path) -> Path:
    with tarfile.open(dists["sdist"]) as sdist:
        sdist.extractall(tmp_path, filter="data")
    return tmp_path / DIST_NAME


@pytest.mark.packaging
def test_stale_widget_without_node_is_a_clear_error_and_no_package(unpacked_sdist: Path) -> None:
    source = unpacked_sdist / "widget" / "src" / "state.js"
    source.write_text(source.read_text() + "\n// edited after the widget was built\n")
    out = unpacked_sdist.parent / "wheels"

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(unpacked_sdist),
        ],
        env=without_node_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode != 0
    assert "needs Node.js >= 20 and npm" in result.stdout + result.stderr
    assert not list(out.glob("*.whl"))


@pytest.mark.packaging
def test_stale_widget_is_rebuilt_with_node(unpacked_sdist: Path) -> None:
    require(
        shutil.which("node") is not None and shutil.which("npm") is not None, "node/npm are not installed"
    )
    widget = unpacked_sdist / "widget"
    (widget / "node_modules").symlink_to(ROOT / "widget" / "node_modules")  # as `npm ci` would make it
    static = unpacked_sdist / "flask_hms_webcall" / "static"
    for built in static.glob("*.js"):
        built.unlink()
    wheels = unpacked_sdist.parent / "wheels"

    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            str(unpacked_sdist),
        ],
        cwd=unpacked_sdist.parent,
    )

    python = fresh_venv(unpacked_sdist.parent / "venv")
    install(python, next(wheels.glob("*.whl")))
    served = serve_widget(python, unpacked_sdist.parent)
    assert served["loader"][0] == 200 and served["call"][0] == 200
    # The digest setup.py computes is the one build.mjs wrote: they hash the same files the same way.
    sys.path.insert(0, str(unpacked_sdist))
    try:
        import setup as setup_py  # the sdist's setup.py: importing it must not run a build
    finally:
        sys.path.remove(str(unpacked_sdist))
        sys.modules.pop("setup", None)
    assert (widget / "build" / "inputs.sha256").read_text().strip() == setup_py.widget_inputs_digest(widget)


@pytest.mark.parametrize("module", ["aiohttp", "aiortc", "numpy"])
def test_sandbox_without_its_extra_says_what_to_install_in_one_line(module: str, tmp_path: Path) -> None:
    # As if the [sandbox] extra were not installed: importing the module fails as a missing one does.
    code = (
        f"import runpy, sys; sys.modules[{module!r}] = None; "
        "sys.argv = ['x', '--loopback-only', '--port', '0']; "
        "runpy.run_module('flask_hms_webcall.sandbox', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "python -m flask_hms_webcall.sandbox: error: the sandbox needs the [sandbox] extra "
        f"({module} is missing): pip install 'flask-hms-webcall[sandbox]'"
    ]
