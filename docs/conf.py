"""Sphinx configuration: furo theme, pages written in Markdown (MyST)."""

from __future__ import annotations

import sys
from importlib.metadata import version as package_version
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The package itself (configuration reference) and the local extensions in _ext/.
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "_ext"))

project = "flask-hms-webcall"
author = "flask-hms-webcall contributors"
copyright = "flask-hms-webcall contributors"
release = package_version("flask-hms-webcall")
version = release

extensions = [
    "myst_parser",
    "hms_options",  # docs/_ext/hms_options.py: the configuration reference, from the code
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Headings get anchors, so pages can link to `page.md#a-heading`; the link check verifies each one.
myst_heading_anchors = 3
myst_enable_extensions = ["attrs_block", "colon_fence", "deflist"]

nitpicky = True
# Pygments' JSX lexer stops at a custom element's tag name (`<hms-webcall>`): the React example is shown as
# written, unhighlighted where the lexer gives up.
suppress_warnings = ["misc.highlighting_failure"]
html_theme = "furo"
html_title = f"flask-hms-webcall {release}"
html_static_path: list[str] = []

# `make docs` checks every link Sphinx can check offline: cross-references and anchors of pages in this
# site are checked by the build itself (-W -n); external URLs cannot be fetched here, so linkcheck skips them.
linkcheck_ignore = [r"https?://.*"]
linkcheck_anchors = True
