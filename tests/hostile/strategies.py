"""Hypothesis settings and the strategies several surfaces share: text with everything JSON can carry, any
JSON value, header text. Strategies for one surface live in its test module."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Enough examples to find the odd case, few enough that the suite runs in seconds. No example database: the
# tests must not write into the working tree.
BOUNDED = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with everything JSON can carry: control characters, NUL, BOM, RTL override, astral characters and
# lone surrogates (which json.dumps escapes as \udXXX, the way a hostile page would send them).
CHARS = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),
    st.sampled_from(["\x00", "\n", "\u2028", "\ufeff", "\u202e", "\U0001f600", "\\", '"']),
)
TEXT = st.text(CHARS, max_size=30)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
# What a header can hold on the wire (Latin-1, no control characters).
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
)


def encode(value: Any, ascii_only: bool) -> bytes:
    # Escaped (\udXXX) or raw UTF-8 with surrogates passed through: a server decoding with surrogatepass sees
    # the same text either way.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
