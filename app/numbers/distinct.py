"""Members counted once in a window (active, purchasers, repeat purchasers), per tier, who came
in it from an instant on: what a page adds to the snapshot of yesterday's windows.

Today is taken in two parts, so that a page reads few rows however busy the day: the five-minute
job (roll_up_today) writes the members of today up to its cut into distinct_so_far, and a page
reads live only the members since that cut, each checked against the window's rows before it.
"""
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, case, cast, delete, func, insert, or_, select, union

from app.clock import local_date, start_of_day
from app.engagement.models import Checkin
from app.extensions import db
from app.member_row import Member
from app.numbers.models import DistinctSoFar
from app.numbers.snapshots import windows
from app.purchases.models import Purchase


def purchasers_after(since: datetime, until: datetime, window_first: date) -> tuple[Counter, Counter]:
    """Per tier, members whose first purchase in the window came from `since` to `until`, and those
    whose second did, in one statement that answers a row per tier."""
    live_buyers = select(Purchase.member_id).where(Purchase.created_at >= since, Purchase.created_at < until)
    per_member = (select(Member.tier_id.label("tier_id"),
                         func.sum(case((Purchase.created_at < since, 1), else_=0)).label("before"),
                         func.count().label("purchases"))
                  .join(Member, Member.id == Purchase.member_id)
                  .where(Purchase.member_id.in_(live_buyers), Purchase.created_at >= start_of_day(window_first),
                         Purchase.created_at < until)
                  .group_by(Purchase.member_id, Member.tier_id).subquery())
    first = cast(func.sum(case((per_member.c.before == 0, 1), else_=0)), BigInteger)
    second = cast(func.sum(case(((per_member.c.before < 2) & (per_member.c.purchases >= 2), 1), else_=0)), BigInteger)
    purchasers, repeaters = Counter(), Counter()
    for tier_id, firsts, seconds in db.session.execute(
            select(per_member.c.tier_id, first, second).group_by(per_member.c.tier_id)):
        purchasers[tier_id], repeaters[tier_id] = int(firsts), int(seconds)
    return +purchasers, +repeaters


def active_after(since: datetime, until: datetime, window_first: date) -> Counter:
    """Per tier, members active from `since` to `until` who were not earlier in the window. A
    check-in counts on its business day (a make-up, on the day it makes up), made from `since` on."""
    live_first = local_date(since)
    members = union(
        select(Purchase.member_id.label("member_id")).where(Purchase.created_at >= since, Purchase.created_at < until),
        select(Checkin.member_id.label("member_id")).where(
            Checkin.day >= live_first, Checkin.created_at >= since, Checkin.created_at < until),
    ).subquery()
    bought_earlier = select(Purchase.id).where(
        Purchase.member_id == members.c.member_id, Purchase.created_at >= start_of_day(window_first),
        Purchase.created_at < since).exists()
    checked_earlier = select(Checkin.id).where(
        Checkin.member_id == members.c.member_id, Checkin.day >= window_first,
        or_(Checkin.day < live_first, Checkin.created_at < since)).exists()
    return Counter(dict(db.session.execute(
        select(Member.tier_id, func.count()).select_from(members).join(Member, Member.id == members.c.member_id)
        .where(~bought_earlier, ~checked_earlier).group_by(Member.tier_id)).all()))


def counted_after(since: datetime, until: datetime, window_first: date, detail: str) -> dict[str, Counter]:
    """What a window counts (`detail`: "active", or a preset's "7d", ...): its members active, or its
    purchasers and repeat purchasers."""
    if detail == "active":
        return {"active": active_after(since, until, window_first)}
    purchasers, repeaters = purchasers_after(since, until, window_first)
    return {"purchasers": purchasers, "repeat_purchasers": repeaters}


def shown_windows(day: date) -> dict[str, date]:
    """The windows a page on `day` adds to yesterday's snapshot (detail → first day), previous ones left out."""
    return {detail: window.first for detail, window in windows(day - timedelta(days=1)).items()
            if not detail.endswith(":previous")}


def write_so_far(day: date, until: datetime) -> int:
    """The day's members counted once in each window, from its start to `until`: how many rows."""
    db.session.execute(delete(DistinctSoFar))  # only the latest cut is read
    rows = [{"day": day, "metric": metric, "tier_id": tier_id, "detail": detail, "value": value}
            for detail, window_first in shown_windows(day).items()
            for metric, counted in counted_after(start_of_day(day), until, window_first, detail).items()
            for tier_id, value in counted.items()]
    if rows:
        db.session.execute(insert(DistinctSoFar), rows)
    return len(rows)


def so_far(day: date) -> dict[tuple[str, str], Counter]:
    """(metric, detail) → per tier, the members write_so_far counted on the day."""
    counted: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for metric, detail, tier_id, value in db.session.execute(
            select(DistinctSoFar.metric, DistinctSoFar.detail, DistinctSoFar.tier_id, DistinctSoFar.value)
            .where(DistinctSoFar.day == day)):
        counted[(metric, detail)][tier_id] = value
    return counted
