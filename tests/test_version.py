"""One version: flask_hms_webcall/_version.py. Everything else that names a version must say the same."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version

import flask_hms_webcall
from flask_hms_webcall import _version
from flask_hms_webcall.client import USER_AGENT
from tests.conftest import ROOT


def test_the_package_reports_the_version_of_version_py() -> None:
    assert flask_hms_webcall.__version__ == _version.__version__


def test_the_api_client_sends_the_version_in_its_user_agent() -> None:
    assert USER_AGENT.split("/") == ["flask-hms-webcall", _version.__version__]


def test_the_npm_package_has_the_same_version() -> None:
    package = json.loads((ROOT / "widget" / "package.json").read_text())
    lock = json.loads((ROOT / "widget" / "package-lock.json").read_text())
    assert package["version"] == lock["version"] == lock["packages"][""]["version"] == _version.__version__


def test_installed_metadata_has_the_same_version() -> None:
    # setup.cfg reads _version.py (`version = attr:`); an install made before a version bump would differ.
    try:
        installed = version("flask-hms-webcall")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return
    assert installed == _version.__version__


def test_both_packages_carry_the_same_license() -> None:
    assert (ROOT / "widget" / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
