"""A small Flask site whose visitors talk to an HMS assistant: ``python -m example_app`` or ``make demo``."""

from .app import create_app

__all__ = ["create_app"]
