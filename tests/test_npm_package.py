"""The npm package (widget/) as an SPA developer gets it: packed, installed, bundled, type-checked, calling.

`npm pack` makes the tarball (its `prepack` builds dist/); it is unpacked into a throwaway project's
node_modules as `npm install <tarball>` would, with its one dependency (livekit-client) linked from
widget/node_modules: no registry is asked. A page importing both entries is bundled with esbuild and served
by a small Flask app on the sandbox; Chromium makes a whole call with it. A strict TypeScript file using the
element and its events is checked with tsc against the package's index.d.ts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import open_widget, wait_for
from tests.conftest import ROOT, ServerProcess, free_port, require

pytestmark = pytest.mark.packaging

WIDGET = ROOT / "widget"
BIN = WIDGET / "node_modules" / ".bin"

PAGE_JS = """
import { define, HMSWebCallElement } from 'hms-webcall/define';

const HMSWebCall = define({ defaults: { theme: 'dark' } });
// The main entry shares the registration: importing it after define() finds the class already there.
const main = await import('hms-webcall');
const registered = customElements.get('hms-webcall');
window.__sameClass =
  main.HMSWebCallElement === HMSWebCall && registered === HMSWebCall && HMSWebCallElement === HMSWebCall;
// The class extended and registered under a tag of the page's own, with define()'s defaults.
class SupportCall extends HMSWebCallElement {}
SupportCall.define('support-call');
const other = document.body.appendChild(document.createElement('support-call'));
window.__otherTag = other.shadowRoot.querySelector('.r').className;
"""

# Strict TypeScript as an SPA would write it; each @ts-expect-error must be an error, or tsc fails.
APP_TS = """
import { define, HMSWebCallElement as Unregistered } from 'hms-webcall/define';
import type { HMSEndedDetail, HMSWebCallState } from 'hms-webcall/define';
import { HMSWebCallElement } from 'hms-webcall';

class SupportCall extends Unregistered {}
const Support: typeof SupportCall = SupportCall.define('support-call', customElements);
const support: HMSWebCallElement = new Support();

const Element = define({ base: '/voice/', defaults: { theme: 'dark', 'assistant-name': 'Ava' } });
const same: typeof HMSWebCallElement = Element;
const el = document.createElement('hms-webcall');
const found: HMSWebCallElement | null = document.querySelector('hms-webcall');
el.context = { order: '1042' };
el.strings = { start: 'Call support' };
Element.strings = { nl: { start: 'Bellen' } };
const muted: boolean = el.mute(false);
const state: HMSWebCallState = el.state;
el.addEventListener('hms:ended', (event) => {
  const detail: HMSEndedDetail = event.detail;
  console.log(detail.reason, detail.durationSeconds.toFixed(0), detail.callId ?? 'none');
});
el.addEventListener('hms:state', (event) => console.log(event.detail.previous, event.detail.reconnecting));
el.addEventListener('hms:transcript', (event) => event.detail.entries.map((e) => e.role + e.text));
el.addEventListener('hms:feedback', (event) => console.log(event.detail.rating, event.detail.comment));
el.addEventListener('hms:device-change', (event) => console.log(event.detail.kind, event.detail.deviceId));
el.addEventListener('hms:agent-state', (event) => console.log(event.detail.state === 'thinking'));
document.addEventListener('hms:error', (event) => console.log(event.detail.code, event.detail.retryAfter));
el.addEventListener('click', (event) => console.log(event.clientX));
el.addEventListener('hms:action', (event) => console.log(event.detail.name, event.detail.args.order_id));
const unregister: () => void = el.actions.register('show_order', (args, action) => action.callId ?? args.id);
unregister();
found?.start();
el.end();
console.log(same, muted, state, el.transcript.length, el.callId, el.error?.message, el.endReason);
console.log(support.state);

// @ts-expect-error: hms:ended has no such detail field
el.addEventListener('hms:ended', (event) => event.detail.duration);
// @ts-expect-error: state is read-only
el.state = 'live';
// @ts-expect-error: a handler is a function
el.actions.register('show_order', 'highlight');
// @ts-expect-error: not an attribute of the element
define({ defaults: { colour: 'red' } });
// @ts-expect-error: a tag is a string
Unregistered.define(42);
"""

APP_TSX = """
import 'hms-webcall';

export const ok = <hms-webcall id="help" endpoint="/hms/web-calls" theme="light" assistant-name="Ava" />;
// @ts-expect-error: theme is auto, light or dark
export const bad = <hms-webcall theme="purple" />;
"""

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "ESNext",
        "moduleResolution": "Bundler",
        "lib": ["ES2022", "DOM"],
        "jsx": "preserve",
        "types": [],
        "skipLibCheck": False,
    },
    "include": ["app.ts", "app.tsx"],
}

APP = textwrap.dedent(
    """
    import os, sys
    from flask import Flask, send_from_directory
    from flask_hms_webcall import HMSWebCall

    app = Flask("npm-package-check")
    app.config.update(
        SECRET_KEY="test",
        HMS_API_BASE_URL=os.environ["SANDBOX_URL"],
        HMS_API_KEY=os.environ["SANDBOX_KEY"],
        HMS_ASSISTANT_ID=os.environ["SANDBOX_ASSISTANT"],
    )
    HMSWebCall(app)

    @app.get("/")
    def page():
        return (
            '<!doctype html><html lang="en"><body><hms-webcall id="hero-call"></hms-webcall>'
            '<script type="module" src="/app/page.js"></script></body></html>'
        )

    @app.get("/app/<path:name>")
    def bundle(name):
        return send_from_directory(os.environ["BUNDLE_DIR"], name)

    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)
    """
)


def run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(shutil.which("npm") is not None, "npm is not installed")
    require(
        (BIN / "esbuild").exists() and (BIN / "tsc").exists(), "widget/node_modules is missing: make widget"
    )
    out = tmp_path_factory.mktemp("npm-pack")
    # Packed from a copy: prepack's build also writes flask_hms_webcall/static/ beside widget/, which the
    # browser tests on another pytest-xdist worker may be serving at that moment.
    source = tmp_path_factory.mktemp("npm-source") / "widget"
    shutil.copytree(WIDGET, source, ignore=shutil.ignore_patterns("node_modules", "dist", "build"))
    (source / "node_modules").symlink_to(WIDGET / "node_modules")
    name = (
        run(["npm", "pack", "--silent", "--pack-destination", str(out)], cwd=source).strip().splitlines()[-1]
    )
    return out / name


@pytest.fixture(scope="module")
def project(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway project with the tarball installed (as npm would lay it out) and livekit-client linked."""
    project = tmp_path_factory.mktemp("spa")
    (project / "package.json").write_text(json.dumps({"name": "spa", "private": True, "type": "module"}))
    modules = project / "node_modules"
    with tarfile.open(tarball) as tar:
        tar.extractall(modules, filter="data")
    (modules / "package").rename(modules / "hms-webcall")
    (modules / "livekit-client").symlink_to(WIDGET / "node_modules" / "livekit-client")
    return project


def test_the_tarball_ships_the_builds_types_and_manifest_but_no_sources(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        names = {name.removeprefix("package/") for name in tar.getnames()}
    assert {"dist/index.js", "dist/define.js", "dist/script/widget.js", "index.d.ts", "define.d.ts"} <= names
    assert {"custom-elements.json", "README.md", "LICENSE", "package.json"} <= names
    assert any(re.fullmatch(r"dist/script/static/call-[\w-]+\.js", name) for name in names)
    assert not [name for name in names if name.startswith(("src/", "test/", "node_modules/"))]
    package = json.loads((WIDGET / "package.json").read_text())
    assert "private" not in package
    for target in _export_targets(package["exports"]):
        assert target.removeprefix("./") in names, f"exports names {target}, which is not in the tarball"


def _export_targets(exports: dict | str) -> Iterator[str]:
    if isinstance(exports, str):
        yield exports
    else:
        for value in exports.values():
            yield from _export_targets(value)


def test_types_and_manifest_list_every_attribute_the_element_reads() -> None:
    script = "import('./src/attributes.js').then((m) => console.log(JSON.stringify(m.ATTRIBUTES)))"
    attributes = set(json.loads(run(["node", "-e", script], cwd=WIDGET)))
    manifest = json.loads((WIDGET / "custom-elements.json").read_text())
    element = next(
        d for m in manifest["modules"] for d in m["declarations"] if d.get("tagName") == "hms-webcall"
    )
    assert {a["name"] for a in element["attributes"]} == attributes
    types = (WIDGET / "index.d.ts").read_text()
    block = re.search(r"interface HMSWebCallAttributes \{(.*?)\n\}", types, re.S).group(1)
    typed = set(re.findall(r"^  '?([a-z-]+)'?\?:", block, re.M)) - {"floating"}
    assert typed == attributes


def test_types_and_manifest_list_every_event_the_element_dispatches() -> None:
    sources = "\n".join(path.read_text() for path in (WIDGET / "src").rglob("*.js"))
    dispatched = {f"hms:{name}" for name in re.findall(r"\bemit\('([a-z-]+)'", sources)}
    dispatched |= set(re.findall(r"new CustomEvent\('(hms:[a-z-]+)'", sources))
    manifest = json.loads((WIDGET / "custom-elements.json").read_text())
    element = next(
        d for m in manifest["modules"] for d in m["declarations"] if d.get("tagName") == "hms-webcall"
    )
    assert {e["name"] for e in element["events"]} == dispatched
    types = (WIDGET / "index.d.ts").read_text()
    block = re.search(r"interface HMSWebCallEventMap \{(.*?)\n\}", types, re.S).group(1)
    assert set(re.findall(r"'(hms:[a-z-]+)'", block)) == dispatched


def test_strict_typescript_using_the_element_and_its_events_compiles(project: Path) -> None:
    (project / "app.ts").write_text(APP_TS)
    (project / "app.tsx").write_text(APP_TSX)
    (project / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    run([str(BIN / "tsc"), "-p", "tsconfig.json"], cwd=project)


@pytest.fixture(scope="module")
def bundle(project: Path) -> Path:
    (project / "page.js").write_text(PAGE_JS)
    out = project / "out"
    run(
        [str(BIN / "esbuild"), "page.js", "--bundle", "--splitting", "--format=esm", f"--outdir={out}"],
        cwd=project,
    )
    return out


@pytest.mark.browser
def test_a_bundled_page_makes_a_call_against_the_sandbox(
    chromium, sandbox, bundle: Path, tmp_path: Path
) -> None:
    app_file = tmp_path / "spa_app.py"
    app_file.write_text(APP)
    port = free_port()
    env = {
        "SANDBOX_URL": sandbox.api_base_url,
        "SANDBOX_KEY": sandbox.api_key,
        "SANDBOX_ASSISTANT": sandbox.assistant_id,
        "BUNDLE_DIR": str(bundle),
        "PORT": str(port),
    }
    server = ServerProcess([sys.executable, str(app_file)], ready_url=f"http://127.0.0.1:{port}/", env=env)
    context = None
    try:
        context, widget = open_widget(chromium, f"http://127.0.0.1:{port}/")
        requests_seen: list[str] = []
        widget.page.on("request", lambda r: requests_seen.append(r.url))
        assert widget.page.evaluate("window.__sameClass") is True
        assert widget.page.evaluate("window.__otherTag") == "r dark"
        assert widget.host.evaluate("(el) => el.shadowRoot.querySelector('.r').className") == "r dark"

        widget.part("launcher").click()
        widget.wait_state("live", timeout=25)
        wait_for(
            lambda: any(e["role"] == "assistant" and e["final"] for e in widget.transcript()),
            timeout=25,
            what="the assistant's first words in the transcript",
        )
        widget.host.evaluate("(el) => el.end()")
        widget.wait_state("ended", timeout=15)
        assert widget.events("ended")[-1]["reason"] == "user_hangup"
        # The call code came from the bundle's own lazily loaded chunk, not the extension's script build.
        assert [u for u in requests_seen if "/app/" in u and "/chunk" not in u and u.endswith(".js")]
        assert not [u for u in requests_seen if "/hms/static/" in u]
    finally:
        if context is not None:
            context.close()
        server.stop()
