"""The ``hms-options`` directive: the configuration reference, rendered from
:data:`flask_hms_webcall._config.OPTIONS`, the one place the ``HMS_*`` keys are defined.

The page cannot drift from the code: a key added, removed or re-documented there changes the table at the
next build. Each option's doc string is Markdown-compatible inline text (``code`` in double backticks).
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def format_default(value: Any) -> nodes.Node:
    """A default as Python writes it; ``None`` (no default) as the word *unset*."""
    if value is None:
        return nodes.emphasis(text="unset")
    return nodes.literal(text=repr(value))


class HMSOptionsDirective(SphinxDirective):
    """A table (key, default, meaning), one row per option; each key is an anchor (``#hms-api-key``)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from flask_hms_webcall._config import OPTIONS

        table = nodes.table(classes=["hms-options"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (25, 20, 55):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row([nodes.Text("key"), nodes.Text("default"), nodes.Text("meaning")])
        body = nodes.tbody()
        group += body
        for option in OPTIONS:
            key = nodes.literal(text=option.key)
            target = nodes.make_id(option.key)
            default = format_default(option.default)
            meaning, messages = self.state.inline_text(option.doc, self.lineno)
            row = self._row([key, default, *[nodes.inline("", "", *meaning)]])
            row.children[0]["ids"].append(target)
            body += row
            body.extend(messages)
        return [table]

    @staticmethod
    def _row(cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for content in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", content)
            row += entry
        return row


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("hms-options", HMSOptionsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
