"""Business-calendar arithmetic for the mall, in the configured zone (BUSINESS_TZ).

Per-member limits count per local day, ISO week (from Monday) or calendar month; the
member day is a day of the month (MEMBER_DAY, default the 18th; 0 turns it off).
"""
from datetime import datetime, timedelta

from flask import current_app

from app.clock import local_date, start_of_day


def period_start(period: str, at: datetime) -> datetime | None:
    """Where the limit's current period began; None for "total" (all time)."""
    day = local_date(at)
    starts = {
        "day": day,
        "week": day - timedelta(days=day.weekday()),
        "month": day.replace(day=1),
    }
    return start_of_day(starts[period]) if period in starts else None


def is_member_day(at: datetime) -> bool:
    member_day = current_app.config["MEMBER_DAY"]
    return bool(member_day) and local_date(at).day == member_day
