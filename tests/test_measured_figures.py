"""The widget's measured sizes live in one place, the README's "Measured" table, in the row that
``benchmarks/widget_size.py`` prints: the docs pages quote no figure of their own, which would drift."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| widget loader / loader \+ call chunk \| ([\d.]+) KB / ([\d.]+) KB gzip \|.*$", re.M)


def widget_size_benchmark():
    spec = importlib.util.spec_from_file_location("widget_size", ROOT / "benchmarks" / "widget_size.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_row_is_the_one_the_benchmark_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = ROW.findall(readme)
    assert len(rows) == 1, "README.md has no widget row (or more than one) in its Measured table"
    (loader, total), row = rows[0], ROW.search(readme).group(0)
    # The same figures, written by the benchmark: its format and its budgets.
    printed = widget_size_benchmark().readme_row(round(float(loader) * 1024), round(float(total) * 1024))
    assert row == printed


def test_no_docs_page_quotes_a_widget_size_of_its_own():
    quoted = [
        f"{page.name}: {match.group(0)}"
        for page in sorted((ROOT / "docs").glob("*.md"))
        if page.name != "changelog.md"  # history: the figures of their day
        for match in re.finditer(r"\d+(?:\.\d+)?\s*KB", page.read_text(encoding="utf-8"))
    ]
    assert quoted == [], "quote the README's Measured table (or `make bench`) instead"
