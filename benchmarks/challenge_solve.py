"""Prints how long the widget takes to solve the default proof-of-work challenge in Chromium.

Twenty fresh challenges at the default ``HMS_CHALLENGE_COMPLEXITY`` are made by the extension's own code
(the altcha library) and solved one after the other by the widget's solver (widget/src/challenge.js,
bundled by the widget's esbuild) in a Web Worker in headless Chromium, as a visitor's browser would. The
work per challenge is random (uniform in 0..maxnumber hashes), so the median and the spread are printed;
the main-thread fallback (a page whose CSP forbids blob: workers) is measured too. Figures only.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import altcha

ROOT = Path(__file__).resolve().parent.parent
WIDGET = ROOT / "widget"
ESBUILD = WIDGET / "node_modules" / ".bin" / "esbuild"
RUNS = 20

sys.path.insert(0, str(ROOT))
from flask_hms_webcall._config import DEFAULTS  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

COMPLEXITY = DEFAULTS["HMS_CHALLENGE_COMPLEXITY"]


def solver_bundle() -> str:
    result = subprocess.run(
        [
            str(ESBUILD),
            "src/challenge.js",
            "--bundle",
            "--minify",
            "--format=iife",
            "--global-name=HMSChallenge",
        ],
        cwd=WIDGET,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def challenges() -> list[dict]:
    made = []
    for _ in range(RUNS):
        data = altcha.create_challenge_v1(
            algorithm="SHA-256", max_number=COMPLEXITY, hmac_key="bench"
        ).to_dict()
        data["maxnumber"] = data.pop("maxNumber")
        made.append(data)
    return made


def main() -> None:
    if not ESBUILD.exists() or not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        print("challenge solve: needs widget/node_modules (make widget) and Chromium")
        return
    from playwright.sync_api import sync_playwright

    bundle = solver_bundle()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<!doctype html><title>bench</title>")
        page.add_script_tag(content=bundle)
        results = {}
        for label, use_worker in (("web worker", True), ("main thread", False)):
            times = page.evaluate(
                """async ([challenges, useWorker]) => {
                    const times = [];
                    for (const challenge of challenges) {
                        const started = performance.now();
                        const solution = await HMSChallenge.solveChallenge(challenge, { useWorker });
                        if (!solution) throw new Error('unsolved');
                        times.push(performance.now() - started);
                    }
                    return times;
                }""",
                [challenges(), use_worker],
            )
            results[label] = times
        browser.close()
    print(f"challenge solve in Chromium, maxnumber {COMPLEXITY}, {RUNS} challenges each:")
    for label, times in results.items():
        ordered = sorted(times)
        print(
            f"  {label:12} median {statistics.median(times):7.1f} ms   "
            f"fastest {ordered[0]:6.1f} ms   slowest {ordered[-1]:7.1f} ms"
        )
    print("  (a phone is typically 3-5x slower than this machine; the goal is under 1 s there)")


if __name__ == "__main__":
    main()
