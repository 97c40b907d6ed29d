"""Prints where a call's start goes: click → live and the stages of ``hms:timing``, in real Chromium.

The example app and its sandbox run as real processes (as in tests/browser/), and Chromium (Debian's, with a
fake microphone) makes N calls one after the other, each on a freshly loaded page: hover the launcher (the
call code loads on that intent, as it would for a visitor's mouse), click, wait for the first transcript
line, hang up. The page itself records when the click happened, when the widget said ``live``
(``hms:state``), when the first transcript line arrived, when the assistant's audio could first be heard
(its packets here and an <audio> element playing them), and the widget's own ``hms:timing`` stages; the
medians are printed, with how often ``live`` came after the first thing the visitor could read or hear.

``--compare DIR`` measures another build of the widget in the same run: DIR holds its ``widget.js`` and
``static/call-*.js`` (e.g. ``dist/script`` of a checkout of main after ``npm run build``), served for every
other call in place of this checkout's build, so both builds meet the same load on a shared machine.

``python benchmarks/call_start.py [--calls N] [--compare DIR]``, best inside tests/isolated.sh (a private
network). Figures only; nothing here passes or fails a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.fixtures.example_app import ExampleAppProcess  # noqa: E402

STATIC = ROOT / "flask_hms_webcall" / "static"

# Installed before any page script: the click on the launcher, the widget's events, the first audio played.
RECORDER = """
window.__start = { click: null, live: null, transcript: null, packets: null, playing: null, timing: null };
const at = () => performance.now();
document.addEventListener('click', (e) => {
  if (e.composedPath().some((n) => n.getAttribute && /launcher/.test(n.getAttribute('part') || ''))) {
    window.__start.click ??= at();
  }
}, true);
document.addEventListener('hms:state', (e) => e.detail.state === 'live' && (window.__start.live ??= at()));
document.addEventListener('hms:transcript', (e) => e.detail.entry && (window.__start.transcript ??= at()));
document.addEventListener('hms:timing', (e) => (window.__start.timing ??= e.detail));
// The assistant's audio can be heard once its packets arrive (its remote track unmutes) and an <audio>
// element plays it (livekit attaches one when it subscribes): the later of the two.
const PC = window.RTCPeerConnection;
window.RTCPeerConnection = class extends PC {
  constructor(...args) {
    super(...args);
    this.addEventListener('track', ({ track }) => {
      const mark = () => (window.__start.packets ??= at());
      if (track.kind !== 'audio') return;
      if (track.muted) track.addEventListener('unmute', mark, { once: true });
      else mark();
    });
  }
};
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function (...args) {
  const started = play.apply(this, args);
  started.then(() => (window.__start.playing ??= at()), () => {});
  return started;
};
"""


def build_files(folder: Path) -> dict[str, bytes]:
    """widget.js and its call chunk from a build folder (the static/ layout or npm's dist/script/)."""
    chunks = list(folder.glob("call-*.js")) + list(folder.glob("static/call-*.js"))
    if not (folder / "widget.js").is_file() or len(chunks) != 1:
        raise SystemExit(f"{folder}: no widget.js with exactly one call-*.js chunk")
    return {"widget.js": (folder / "widget.js").read_bytes(), chunks[0].name: chunks[0].read_bytes()}


def one_call(browser: Any, url: str, files: dict[str, bytes] | None) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        context.add_init_script(RECORDER)
        if files is not None:

            def serve(route: Any) -> None:
                name = route.request.url.rsplit("/", 1)[-1].split("?")[0]
                route.fulfill(body=files[name], content_type="text/javascript")

            context.route("**/hms/widget.js*", serve)
            context.route("**/hms/static/call-*.js*", serve)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("customElements.get('hms-webcall') && document.querySelector('hms-webcall')")
        launcher = page.locator("hms-webcall#hero-call [part~=launcher]")
        launcher.hover()
        page.wait_for_function("!!window.__hmsWebcallCall", timeout=15000)
        launcher.click()
        try:
            page.wait_for_function("window.__start.transcript && window.__start.live", timeout=20000)
        except Exception:
            widget = "document.querySelector('hms-webcall#hero-call')"
            state = page.evaluate(f"[{widget}.state, {widget}.error && {widget}.error.code]")
            raise RuntimeError(f"no live call (state, error: {state})") from None
        page.wait_for_timeout(300)
        result: dict[str, Any] = page.evaluate("window.__start")
        if result["packets"] is not None and result["playing"] is not None:
            result["audio"] = max(result["packets"], result["playing"])
        page.locator("hms-webcall#hero-call [part~=hangup]").click()
        page.wait_for_function("document.querySelector('hms-webcall#hero-call').state === 'ended'")
        return result
    finally:
        context.close()


def summary(name: str, runs: list[dict[str, Any]]) -> None:
    def median(key: str) -> str:
        values = [r[key] - r["click"] for r in runs if r.get(key) is not None]
        return f"{statistics.median(values) / 1000:.2f} s" if values else "-"

    lives = sorted((r["live"] - r["click"]) / 1000 for r in runs)

    def late(run: dict[str, Any]) -> bool:
        # Later than the assistant's first words (its transcript comes word by word with its voice; the
        # audio track's first packets may be silence before it speaks, docs/widget.md).
        stages = (run.get("timing") or {}).get("stages")
        if stages:  # the widget's own clock: the page's recorder hears the same event just before it
            return bool(stages["live"] > stages["transcript"])
        return bool(run["live"] > run["transcript"])

    print(f"{name}: {len(runs)} calls")
    print(f"  click -> live          median {median('live')}   all {' / '.join(f'{v:.2f}' for v in lives)}")
    print(f"  click -> transcript    median {median('transcript')}")
    print(f"  click -> audio arrives median {median('audio')}")
    print(f"  live after the assistant's first words: {sum(map(late, runs))} of {len(runs)}")
    stages: dict[str, list[float]] = {}
    for run in runs:
        for stage, ms in ((run.get("timing") or {}).get("stages") or {}).items():
            stages.setdefault(stage, []).append(ms)
    if stages:
        print("  hms:timing stages, ms from the click (median):")
        for stage, values in sorted(stages.items(), key=lambda item: statistics.median(item[1])):
            print(f"    {stage:<12} {statistics.median(values):7.0f}   ({len(values)} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=9, help="calls per build (default 9)")
    parser.add_argument("--compare", type=Path, help="another build's folder, measured in turn with this one")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    builds: dict[str, dict[str, bytes] | None] = {"this build": None}
    if args.compare:
        builds[f"compare ({args.compare})"] = build_files(args.compare)
    build_files(STATIC)  # this checkout is built

    # Many calls from one address in a few minutes: the example app's per-visitor limit would refuse them.
    app = ExampleAppProcess(env={"HMS_RATE_LIMIT": "1000 per minute"})
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in builds}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            one_call(browser, f"{app.url}/", None)  # warms the app, the sandbox and the browser up
            for i in range(args.calls):
                for name, files in builds.items():
                    for _attempt in range(5):
                        try:
                            results[name].append(one_call(browser, f"{app.url}/", files))
                            break
                        except Exception as err:  # the sandbox frees the last call's slot a moment later
                            print(f"  ({name}, call {i + 1}: {str(err).splitlines()[0]}; again)")
                            time.sleep(1.5)
                    time.sleep(1.0)
            browser.close()
    finally:
        app.stop()
    for name, runs in results.items():
        summary(name, runs)


if __name__ == "__main__":
    main()
