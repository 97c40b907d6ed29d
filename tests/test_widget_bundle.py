"""What the built widget downloads: a visitor's first call fetches the call chunk, and widget/build.mjs keeps
out of it what the loader already brought (src/shared.js) and the parts of livekit-client the widget never
calls. Each check names one piece of text that shipped before; the sizes themselves are in the README's
Measured table (``benchmarks/widget_size.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require

STATIC = Path(__file__).resolve().parent.parent / "flask_hms_webcall" / "static"


@pytest.fixture
def built() -> tuple[str, str]:
    """The loader's text and the call chunk's (``make widget``)."""
    chunks = sorted(STATIC.glob("call-*.js"))
    loader = STATIC / "widget.js"
    require(loader.is_file() and len(chunks) == 1, "the widget is not built: run `make widget`")
    return loader.read_text(encoding="utf-8"), chunks[0].read_text(encoding="utf-8")


def test_the_call_chunk_takes_what_the_loader_shares_instead_of_shipping_it_again(built):
    loader, chunk = built
    # The launcher's label (i18n.js's SHELL): the loader's, and the call panel's through src/shared.js.
    assert "Talk to AI" in loader
    assert "Talk to AI" not in chunk
    assert "__hmsWebcallShared" in chunk


def test_the_call_chunk_leaves_out_livekit_code_nothing_calls(built):
    _, chunk = built
    # livekit-client's ConnectionCheck diagnostics (not the widget's), kept only while esbuild could not
    # tell its classes were unused (build.mjs's livekitTreeShaking).
    assert "best connection quality via udp" not in chunk
