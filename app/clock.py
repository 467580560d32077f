"""Time: stored in UTC, business dates in the configured zone (default Asia/Shanghai).

A request or a job reads the business day once, when it starts (`init_app`, `one_business_day`):
`today()` then answers that day throughout, so work that crosses local midnight agrees with
itself (a check-in made at 23:59:59 is the day's check-in in the same reply).
"""
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app, g

_DAY = "business_date"  # flask.g: the business day of the request or job under way


def now() -> datetime:
    return datetime.now(timezone.utc)


def business_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BUSINESS_TZ"])


def local_date(at: datetime) -> date:
    """The business date of an instant."""
    return at.astimezone(business_tz()).date()


def start_of_day(day: date) -> datetime:
    """The UTC instant the business day begins (its local midnight)."""
    return datetime.combine(day, time.min, tzinfo=business_tz()).astimezone(timezone.utc)


def today() -> date:
    """The business day: the one the current request or job began on, else the clock's now."""
    return g.get(_DAY) or local_date(now())


@contextmanager
def one_business_day() -> Iterator[None]:
    """`today()` inside is the day the block began on (a job's run); nested, the outer day holds."""
    outer = g.get(_DAY)
    g.setdefault(_DAY, local_date(now()))
    try:
        yield
    finally:
        if outer is None:
            g.pop(_DAY, None)


def init_app(app) -> None:
    """Each request reads the business day once, as it starts."""
    app.before_request(_read_the_day)
    app.teardown_request(_forget_the_day)


def _read_the_day() -> None:
    setattr(g, _DAY, local_date(now()))


def _forget_the_day(error) -> None:
    g.pop(_DAY, None)
