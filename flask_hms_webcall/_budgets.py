"""Daily minute budgets: which apply to a caller, how a day is named, and how long until it ends.

A call reserves its maximum duration against every budget that applies when it is admitted (atomically with
the concurrency check, in the store); its ``end-of-call-report`` gives back what it did not use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from ._callers import Caller
from ._config import Settings
from .store import Budget

__all__ = ["BudgetDay", "Scope", "budget_day", "day_name"]

Scope = Literal["site", "anonymous", "user"]
# A budget counter outlives its day by this much, so a call that reports after midnight is still settled.
KEEP_AFTER_DAY = 2 * 24 * 3600


@dataclass(frozen=True)
class BudgetDay:
    """The budgets of one day for one caller, with the scope of each (in the same order)."""

    budgets: tuple[Budget, ...]
    scopes: tuple[Scope, ...]
    seconds_left: int  # until the day ends: the Retry-After of a refusal
    day: str  # its name in HMS_BUDGET_TIMEZONE, e.g. 2026-11-29


# Per time zone: (an instant of the day last worked out, the instant that day ends, its name). Working the day
# out (the local time, the next midnight) cost every create as much as its admission in the store; every
# instant from a known one of a day to that day's end is in that day, so it is worked out again only after.
_known_days: dict[tzinfo, tuple[float, float, str]] = {}


def _day(settings: Settings, now: float) -> tuple[str, int]:
    zone = settings.budget_timezone
    known = _known_days.get(zone)
    if known is not None and known[0] <= now < known[1]:
        day, ends = known[2], known[1]
    else:
        local = datetime.fromtimestamp(now, zone)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        # Arithmetic on aware datetimes of one zone ignores DST shifts; timestamps do not.
        day, ends = local.date().isoformat(), midnight.timestamp()
        _known_days[zone] = (now, ends, day)
    return day, max(1, math.ceil(ends - now))


def budget_day(settings: Settings, caller: Caller, now: float) -> BudgetDay:
    """The budgets ``caller`` is charged against today (those the settings cap)."""
    day, seconds_left = _day(settings, now)
    ttl = seconds_left + KEEP_AFTER_DAY
    budgets: list[Budget] = []
    scopes: list[Scope] = []
    if settings.user_daily_minutes is not None:
        budgets.append(Budget(f"{caller.key}:{day}", settings.user_daily_minutes * 60, ttl))
        scopes.append("user")
    if caller.anonymous and settings.anonymous_daily_minutes is not None:
        budgets.append(Budget(f"anonymous:{day}", settings.anonymous_daily_minutes * 60, ttl))
        scopes.append("anonymous")
    if settings.daily_minutes is not None:
        budgets.append(Budget(f"site:{day}", settings.daily_minutes * 60, ttl))
        scopes.append("site")
    return BudgetDay(tuple(budgets), tuple(scopes), seconds_left, day)


def day_name(settings: Settings, now: float) -> str:
    """Today's name (``2026-11-29``) in ``HMS_BUDGET_TIMEZONE``: budget counters are named after it."""
    return _day(settings, now)[0]
