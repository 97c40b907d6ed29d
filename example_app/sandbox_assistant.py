"""The example app's sandbox assistant: the sandbox's default one plus a rule that calls the app's page
action ``show_order``, so "show me order one two three" highlights that order on the page the call runs in,
and one that calls its page tool ``order_on_screen`` ("which order is on my screen?").

Configuration only, as a site would write it for the real HMS (a tool in ``llm_config.tools``); the rule is
the sandbox's stand-in for what an LLM would decide.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from flask_hms_webcall.sandbox.assistants import default_assistant
from flask_hms_webcall.sandbox.config import SandboxConfig

SHOW_ORDER_TOOL: dict[str, Any] = {
    "name": "show_order",
    "description": "Show the visitor one of their orders on the page they are on, highlighted.",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order number, digits only."}},
        "required": ["order_id"],
    },
}

# Before the sandbox's "order" rule, which would otherwise answer "show me order 123" by reading it out.
SHOW_ORDER_RULE: dict[str, Any] = {
    "when": ["show", "highlight"],
    "examples": [
        "show me order one two three",
        "show order four five six",
        "highlight order seven eight nine",
    ],
    "tool": "show_order",
    "arguments": {"order_id": "{number}"},
    "ask": "Which order should I show you? Please say its number digit by digit.",
}


ORDER_ON_SCREEN_TOOL: dict[str, Any] = {
    "name": "order_on_screen",
    "description": "Ask the visitor's page which order it shows highlighted; answers what is known of it.",
    "parameters": {"type": "object", "properties": {}},
}

# The page tool: the page answers, the app's server turns the answer into what the assistant says.
ORDER_ON_SCREEN_RULE: dict[str, Any] = {
    "when": ["screen"],
    "examples": ["which order is on my screen", "what is on my screen"],
    "tool": "order_on_screen",
    "arguments": {},
}


def demo_assistant(config: SandboxConfig) -> dict[str, Any]:
    """The sandbox's default assistant with the page action's tool and rule added."""
    assistant = copy.deepcopy(default_assistant(config))
    llm = assistant["llm_config"]
    llm["tools"] += [copy.deepcopy(SHOW_ORDER_TOOL), copy.deepcopy(ORDER_ON_SCREEN_TOOL)]
    llm["rules"][:0] = [copy.deepcopy(SHOW_ORDER_RULE), copy.deepcopy(ORDER_ON_SCREEN_RULE)]
    return assistant


def with_demo_assistant(config: SandboxConfig) -> SandboxConfig:
    """``config`` with :func:`demo_assistant` as its default (unless an assistants file replaced it)."""
    assistants = {config.assistant_id: demo_assistant(config), **config.assistants}
    return dataclasses.replace(config, assistants=assistants)
