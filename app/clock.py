"""Time: stored in UTC, business dates in the configured zone (default Asia/Shanghai)."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    return datetime.now(timezone.utc)


def business_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BUSINESS_TZ"])


def today() -> date:
    """The business day now, in the configured zone."""
    return now().astimezone(business_tz()).date()
