"""Prints the built widget's transfer sizes (gzip) against its budgets and against livekit-client alone.

Run after ``make widget``: ``python benchmarks/widget_size.py``. It reads the files the extension serves
(flask_hms_webcall/static/) and, for comparison, measures livekit-client's own ESM build from
widget/node_modules in the same run: as published, and minified by the same esbuild (the fair comparison,
since the widget's chunk is minified). Figures only; nothing here passes or fails a test.

Its last line is the README's row for these figures ("Measured"), the one place the docs quote them: paste
it there after a change to the widget.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "flask_hms_webcall" / "static"
WIDGET = ROOT / "widget"
LIVEKIT_ESM = WIDGET / "node_modules" / "livekit-client" / "dist" / "livekit-client.esm.mjs"
ESBUILD = WIDGET / "node_modules" / ".bin" / "esbuild"

LOADER_BUDGET = 8 * 1024
TOTAL_BUDGET = 170 * 1024


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def kb(size: int) -> str:
    return f"{size / 1024:6.1f} KB"


def readme_row(loader: int, total: int) -> str:
    """The README's "Measured" row: the figures with their budgets."""
    return (
        f"| widget loader / loader + call chunk | {kb(loader).strip()} / {kb(total).strip()} gzip "
        f"| ≤ {LOADER_BUDGET // 1024} KB / ≤ {TOTAL_BUDGET // 1024} KB |"
    )


def livekit_minified() -> bytes | None:
    """livekit-client's whole ESM API, bundled and minified by the widget's own esbuild."""
    if not ESBUILD.exists():
        return None
    result = subprocess.run(
        [str(ESBUILD), "--bundle", "--minify", "--format=esm", "--log-level=error", "--legal-comments=eof"],
        input=b"export * from 'livekit-client';",
        cwd=WIDGET,
        capture_output=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def main() -> int:
    loader_file = STATIC / "widget.js"
    chunks = sorted(STATIC.glob("call-*.js"))
    if not loader_file.is_file() or len(chunks) != 1:
        print("widget_size: build the widget first (make widget)", file=sys.stderr)
        return 1
    loader = gz(loader_file.read_bytes())
    chunk = gz(chunks[0].read_bytes())
    total = loader + chunk

    def verdict(size: int, budget: int) -> str:
        return f"budget {kb(budget).strip()}: {'within' if size <= budget else 'OVER'}"

    print(f"loader   widget.js           {kb(loader)} gzip  ({verdict(loader, LOADER_BUDGET)})")
    print(f"chunk    {chunks[0].name:<19} {kb(chunk)} gzip")
    print(f"total    loader + chunk      {kb(total)} gzip  ({verdict(total, TOTAL_BUDGET)})")

    if LIVEKIT_ESM.is_file():
        published = gz(LIVEKIT_ESM.read_bytes())
        ratio = total / published
        print(f"livekit-client ESM, as published {kb(published)} gzip   total / this = {ratio:.2f}")
        minified = livekit_minified()
        if minified is not None:
            alone = gz(minified)
            print(
                f"livekit-client ESM, minified     {kb(alone)} gzip   total / this = {total / alone:.2f}"
                f"   (the widget adds {kb(total - alone).strip()})"
            )
    else:
        print("livekit-client is not installed in widget/node_modules: no comparison (cd widget && npm ci)")
    print(f"README.md: {readme_row(loader, total)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
