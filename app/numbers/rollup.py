"""The rollup job's sweep: each business day not rolled up yet, up to yesterday, one
transaction per day (a day rolled again is replaced), then yesterday's snapshot.

It catches up: after days without a run it rolls every day missed, starting after the
last one rolled (or, the first time, on the day the first member joined). Yesterday is
rolled again by a second run on the same day, so a run twice replaces, never adds. A
snapshot is taken only of the day just ended: what lots held on an older day is gone.
"""
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select

from app.batches import Batches
from app.clock import local_date, today
from app.extensions import db
from app.member_row import Member
from app.numbers.facts import facts_of_day
from app.numbers.models import DailyFact, DailySnapshot, RolledDay
from app.numbers.snapshots import snapshot_of

COLUMNS = ("metric", "tier_id", "store_id", "detail", "value")


def last_rolled_day() -> date | None:
    return db.session.execute(select(func.max(RolledDay.day))).scalar_one()


def _first_day() -> date | None:
    first_join = db.session.execute(select(func.min(Member.created_at))).scalar_one()
    return None if first_join is None else local_date(first_join)


def _replace(model, day: date, rows: list[tuple]) -> int:
    db.session.execute(delete(model).where(model.day == day))
    if rows:
        db.session.execute(insert(model), [{"day": day, **dict(zip(COLUMNS, row))} for row in rows])
    return len(rows)


def roll_up_day(day: date) -> int:
    """Write (or write again) the day's facts: how many rows."""
    written = _replace(DailyFact, day, facts_of_day(day))
    db.session.execute(delete(RolledDay).where(RolledDay.day == day))
    db.session.add(RolledDay(day=day))
    db.session.flush()
    return written


def roll_up() -> Batches:
    yesterday = today() - timedelta(days=1)
    last = last_rolled_day()
    day = min(last + timedelta(days=1), yesterday) if last else _first_day()
    counts = {"days": 0, "facts": 0, "snapshots": 0}
    if day is None or day > yesterday:  # no member yet, or the first joined today
        return counts
    while day <= yesterday:
        counts["facts"] += roll_up_day(day)
        counts["days"] += 1
        yield
        day += timedelta(days=1)
    counts["snapshots"] = _replace(DailySnapshot, yesterday, snapshot_of(yesterday))
    return counts
