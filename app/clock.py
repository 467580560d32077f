"""Time: stored in UTC, business dates in the configured zone (default Asia/Shanghai).

A request or a job reads the business day once, when it starts (`begin_business_day`,
called by the API for each request; `one_business_day` around a job's run): `today()` then
answers that day throughout, so work that crosses local midnight agrees with itself (a
check-in made at 23:59:59 is the day's check-in in the same reply). The day is kept in a
context variable, so services read it without knowing about requests.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

_DAY: ContextVar[date | None] = ContextVar("business_day", default=None)  # of the request or job under way
_AT: ContextVar[datetime | None] = ContextVar("clock_at", default=None)  # the demo data's past moment (`at`)


def now() -> datetime:
    return _AT.get() or datetime.now(timezone.utc)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Inside, `now()` is `moment` and `today()` its business day: the demo data (app/demo_history.py)
    writes months of history through the services, each step as of its own past moment. (Tests travel
    with time_machine, which moves every clock of the process.)"""
    moment_token, day_token = _AT.set(moment), _DAY.set(local_date(moment))
    try:
        yield
    finally:
        _DAY.reset(day_token)
        _AT.reset(moment_token)


def business_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["BUSINESS_TZ"])


def local_date(at: datetime) -> date:
    """The business date of an instant."""
    return at.astimezone(business_tz()).date()


def local_time(at: datetime) -> datetime:
    """The instant in the business zone's offset: how every reply shows a time."""
    return at.astimezone(business_tz())


def last_day(end: datetime) -> date:
    """The last business day of a validity that ends (exclusive) at a local midnight."""
    return local_date(end) - timedelta(days=1)


def start_of_day(day: date) -> datetime:
    """The UTC instant the business day begins (its local midnight)."""
    return datetime.combine(day, time.min, tzinfo=business_tz()).astimezone(timezone.utc)


def today() -> date:
    """The business day: the one the current request or job began on, else the clock's now."""
    return _DAY.get() or local_date(now())


def begin_business_day() -> Token | None:
    """From now on `today()` is today's date, until `end_business_day`; inside a day already
    begun (a job run by a request, a nested block) the outer day holds: None."""
    return None if _DAY.get() is not None else _DAY.set(local_date(now()))


def end_business_day(token: Token | None) -> None:
    if token is not None:
        _DAY.reset(token)


@contextmanager
def one_business_day() -> Iterator[None]:
    """`today()` inside is the day the block began on (a job's run); nested, the outer day holds."""
    token = begin_business_day()
    try:
        yield
    finally:
        end_business_day(token)
