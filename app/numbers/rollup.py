"""The rollup job's sweep: each business day not rolled up yet, up to yesterday, one
transaction per day (a day rolled again is replaced), then yesterday's snapshot.

It catches up: after days without a run it rolls every day missed, starting after the
last one rolled (or, the first time, on the day the first member joined). Yesterday is
rolled again by a second run on the same day, so a run twice replaces, never adds. A
snapshot is taken only of the day just ended: what lots held on an older day is gone.

Each day written rewrites its sums too: over the stores (daily_totals, the series per day) and
its month over its days (monthly_facts, the whole months of a long period).

Every few minutes a second job rolls up today so far (roll_up_today); the night's run replaces
that with the whole day.
"""
from datetime import date, datetime, timedelta

from sqlalchemy import Date, delete, func, insert, literal, select

from app.batches import Batches
from app.clock import local_date, now, start_of_day, today
from app.extensions import db
from app.member_row import Member
from app.numbers.distinct import write_so_far
from app.numbers.facts import facts_of_day
from app.numbers.models import DailyFact, DailySnapshot, DailyTotal, MonthlyFact, RolledDay
from app.numbers.periods import month_of
from app.numbers.snapshots import snapshot_of

COLUMNS = ("metric", "tier_id", "store_id", "detail", "value")


# How often today so far is rolled up, and how far back its cut is taken: a row is committed
# within a few seconds of the time it carries, so one older than the cut is in by then.
TODAY_EVERY = timedelta(minutes=5)
SETTLED = timedelta(minutes=1)


def _latest_rolled() -> list[RolledDay]:
    """The last rolled days, newest first: enough to reach one rolled in full (only today and
    yesterday can be rolled in part: yesterday, between midnight and the night's run)."""
    return list(db.session.execute(select(RolledDay).order_by(RolledDay.day.desc()).limit(3)).scalars())


def _in_full(rolled: RolledDay) -> bool:
    return rolled.rolled_at >= start_of_day(rolled.day + timedelta(days=1))


def last_rolled_day() -> date | None:
    """The last day rolled up in full."""
    return next((rolled.day for rolled in _latest_rolled() if _in_full(rolled)), None)


def rolled_in_part() -> dict[date, datetime]:
    """The days after the last one rolled up in full whose facts are written up to an instant."""
    last = last_rolled_day()
    return {rolled.day: rolled.rolled_at for rolled in _latest_rolled()
            if not _in_full(rolled) and (last is None or rolled.day > last)}


def _first_day() -> date | None:
    first_join = db.session.execute(select(func.min(Member.created_at))).scalar_one()
    return None if first_join is None else local_date(first_join)


def _replace(model, day: date, rows: list[tuple]) -> int:
    db.session.execute(delete(model).where(model.day == day))
    if rows:
        db.session.execute(insert(model), [{"day": day, **dict(zip(COLUMNS, row))} for row in rows])
    return len(rows)


def _sum_up(day: date) -> None:
    """The day's facts summed over the stores, and its month's over its days, written again."""
    keys = (DailyFact.metric, DailyFact.tier_id, DailyFact.detail)
    db.session.execute(delete(DailyTotal).where(DailyTotal.day == day))
    db.session.execute(insert(DailyTotal).from_select(
        ["day", "metric", "tier_id", "detail", "value"],
        select(DailyFact.day, *keys, func.sum(DailyFact.value)).where(DailyFact.day == day)
        .group_by(DailyFact.day, *keys)))
    month = month_of(day)
    keys = (DailyFact.metric, DailyFact.tier_id, DailyFact.store_id, DailyFact.detail)
    db.session.execute(delete(MonthlyFact).where(MonthlyFact.month == month.first))
    db.session.execute(insert(MonthlyFact).from_select(
        ["month", *COLUMNS],
        select(literal(month.first, Date), *keys, func.sum(DailyFact.value))
        .where(DailyFact.day >= month.first, DailyFact.day <= month.last).group_by(*keys)))


def roll_up_day(day: date, until: datetime | None = None) -> int:
    """Write (or write again) the day's facts, up to `until` if the day is not over: how many rows."""
    written = _replace(DailyFact, day, facts_of_day(day, until=until))
    _sum_up(day)
    db.session.execute(delete(RolledDay).where(RolledDay.day == day))
    db.session.add(RolledDay(day=day, rolled_at=until or now()))
    db.session.flush()
    return written


def roll_up_today() -> dict:
    """Today so far, up to a minute ago: its facts and the members counted once in each window, so
    that a page reads live only the rows since. Left alone if the night's run has already rolled
    the day up in full (just after midnight)."""
    until = now() - SETTLED
    day = local_date(until)
    last = last_rolled_day()
    if last is not None and day <= last:
        return {"facts": 0, "distinct": 0}
    return {"facts": roll_up_day(day, until), "distinct": write_so_far(day, until)}


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
