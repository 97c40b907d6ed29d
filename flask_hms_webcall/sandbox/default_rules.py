"""The sandbox's default assistant: its rules (what it listens for, says and calls), its lines and its tool.

Each rule's ``when`` phrases and ``examples`` are what the ears expect; its ``also`` phrases are people's
other words for it ("when do you close", "a representative", "cheers"), matched the same way.
The phrases were tuned on the ``tuning`` sentences of ``benchmarks/data/rule_phrasing.json``, never on its
``held_out`` ones (``benchmarks/rule_phrasing.py`` prints both).
"""

from __future__ import annotations

from typing import Any

DEFAULT_FALLBACK = (
    "Sorry, I can tell you our opening hours or the status of an order. "
    "Try: what is the status of order one two three?"
)
DEFAULT_ASK = "Which number? Please say it digit by digit."
DEFAULT_TOOL_ERROR = "Sorry, I could not get an answer from {tool} just now. Is there anything else?"
DEFAULT_CONFIRM = "{number}, is that right?"  # a tool rule's number that may be misheard
DEFAULT_CLOSING_CHECK = "Anything else I can help with?"  # a goodbye that may be a misheard thanks
GO_ON = "Sure, what can I help you with?"  # "anything else?" "yes"

# "when" and "examples" are what the ears expect (their language model); "also" holds people's other words
# for a rule, which the everyday sentences already carry: more phrases there would tilt how everything else
# is heard (measured with benchmarks/speech_wer.py).
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "when": ["opening hours", "open", "hours"],
        "also": ["opening times", "close", "closed", "closing", "shut"],
        "examples": ["what are your opening hours", "when are you open", "are you open on saturday"],
        "say": "We are open Monday to Friday from nine to five, and on Saturday from ten to two.",
    },
    {
        "when": ["order", "parcel", "package"],
        "also": ["shipment", "tracking", "my delivery"],
        "examples": [
            "what is the status of order one two three",
            "where is my order four five six",
            "check order seven eight nine",
            "can you look up my order",
        ],
        "tool": "lookup_order",
        "arguments": {"order_id": "{number}"},
        "digits": 3,
        # Fields of the example app's answer; a text answer (or other fields) is read out as it is.
        "say": "Order {order_id} is {status}.",
        "ask": "Which order? Please say its number digit by digit, for example: order one two three.",
        "confirm": "Order {number}, is that right?",
    },
    {
        "when": ["person", "human", "agent", "someone"],
        "also": ["somebody", "representative", "customer service"],
        "examples": ["can i talk to a person", "i want to speak to a human"],
        "say": "I am the sandbox assistant, there is nobody else here. I can look up an order for you.",
    },
    {
        "when": ["goodbye", "bye", "that's all", "that is all"],
        "also": ["that's it", "that's everything", "nothing else", "see you"],
        "examples": ["goodbye", "thank you bye", "that is all thanks"],
        "say": "Thanks for calling. Goodbye!",
        "hang_up": True,
    },
    {
        "when": ["thank you", "thanks"],
        "also": ["cheers", "appreciated", "appreciate it"],
        "examples": ["thank you", "thanks a lot"],
        "say": "You are welcome. Anything else?",
    },
    {
        "when": ["hello", "hi", "hey"],
        "also": ["good morning", "good afternoon", "good evening"],
        "examples": ["hello", "hi there", "hello can you hear me"],
        "say": "Hello! I can hear you. Ask me about our opening hours or an order.",
    },
]

# The tool the default rules call; the sandbox's default assistant declares it, as a real assistant would.
LOOKUP_ORDER_TOOL: dict[str, Any] = {
    "name": "lookup_order",
    "description": "Look up the status of an order by its number.",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order number, digits only."}},
        "required": ["order_id"],
    },
}
