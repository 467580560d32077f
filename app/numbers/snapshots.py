"""Numbers that do not add up day by day, taken at the end of a business day by the rollup job
so that no page has to scan all members or the ledger: members per tier and store (the
pyramid), outstanding points, points expiring within 30 and 90 days, and the distinct members
active or purchasing in each window a page shows.

A window that reaches into the next day (a preset ending "today") is taken up to the end of
the snapshot's day; a page adds the days after it (app/numbers/distinct.py). Expiring points
are read from the lots as they stand when the job runs, just after midnight.
"""
from datetime import date, timedelta

from sqlalchemy import BigInteger, and_, case, cast, func, select, union

from app.clock import start_of_day
from app.engagement.models import Checkin
from app.extensions import db
from app.member_row import Member
from app.numbers.facts import tier_at
from app.numbers.models import NO_STORE
from app.numbers.periods import PRESETS, Period, active_period, preset_period
from app.points.models import POINTS, LedgerEntry, PointLot
from app.purchases.models import Purchase
from app.stores.models import HomeStore

Snapshot = tuple[str, int, int, str, int]  # metric, tier_id, store_id, detail, value
EXPIRING_DAYS = (30, 90)


def windows(day: date) -> dict[str, Period]:
    """The windows of distinct members as a page on the next day shows them (detail → period)."""
    shown = {"active": active_period(day + timedelta(days=1)),
             **{preset: preset_period(preset, day + timedelta(days=1)) for preset in PRESETS}}
    return {**shown, **{f"{key}:previous": period.previous for key, period in shown.items()}}


def _sum(column):
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def _per_tier(metric: str, stmt, detail: str = "") -> list[Snapshot]:
    return [(metric, tier_id, NO_STORE, detail, int(value)) for tier_id, value in db.session.execute(stmt)]


def _instants(period: Period):
    return start_of_day(period.first), start_of_day(period.last + timedelta(days=1))


def purchasers(period: Period, at_end) -> tuple[list, list]:
    since, until = _instants(period)
    counts = (select(Purchase.member_id, func.count().label("purchases"))
              .where(Purchase.created_at >= since, Purchase.created_at < until)
              .group_by(Purchase.member_id).subquery())
    stmt = (select(at_end.label("tier_id"), func.count(), _sum(case((counts.c.purchases >= 2, 1), else_=0)))
            .select_from(counts).join(Member, Member.id == counts.c.member_id).group_by(at_end))
    rows = db.session.execute(stmt).all()
    return [(tier_id, int(n)) for tier_id, n, _ in rows], [(tier_id, int(n)) for tier_id, _, n in rows]


def active(period: Period, at_end) -> list:
    since, until = _instants(period)
    members = union(
        select(Purchase.member_id.label("member_id")).where(Purchase.created_at >= since, Purchase.created_at < until),
        select(Checkin.member_id.label("member_id")).where(Checkin.day >= period.first, Checkin.day <= period.last),
    ).subquery()
    return db.session.execute(select(at_end, func.count()).select_from(members)
                              .join(Member, Member.id == members.c.member_id).group_by(at_end)).all()


def snapshot_of(day: date) -> list[Snapshot]:
    end = start_of_day(day + timedelta(days=1))
    at_end = tier_at(end)
    store = func.coalesce(HomeStore.store_id, NO_STORE)
    taken: list[Snapshot] = [
        ("members", tier_id, store_id, "", int(count)) for tier_id, store_id, count in db.session.execute(
            select(at_end, store, func.count()).outerjoin(HomeStore, HomeStore.member_id == Member.id)
            .where(Member.created_at < end).group_by(at_end, store))]
    # the balances now, less what the ledger moved since the day's end
    balances = dict(db.session.execute(select(at_end, _sum(Member.points_balance)).group_by(at_end)).all())
    since_end = dict(db.session.execute(
        select(at_end, _sum(LedgerEntry.delta)).join(Member, Member.id == LedgerEntry.member_id)
        .where(LedgerEntry.account == POINTS, LedgerEntry.created_at >= end).group_by(at_end)).all())
    taken += [("outstanding_points", tier_id, NO_STORE, "", int(balance) - int(since_end.get(tier_id, 0)))
              for tier_id, balance in balances.items()]
    for days in EXPIRING_DAYS:  # from the next day on, `days` days of expiry dates
        within = and_(PointLot.expires_on > day, PointLot.expires_on <= day + timedelta(days=days))
        taken += _per_tier(f"expiring_{days}d", select(at_end, _sum(PointLot.remaining))
                           .join(Member, Member.id == PointLot.member_id)
                           .where(within, PointLot.remaining > 0).group_by(at_end))
    for detail, window in windows(day).items():
        window = window.up_to(day)
        if window is None:
            continue
        if detail.startswith("active"):
            taken += [("active", tier_id, NO_STORE, detail, int(n)) for tier_id, n in active(window, at_end)]
            continue
        buyers, repeaters = purchasers(window, at_end)
        taken += [("purchasers", tier_id, NO_STORE, detail, n) for tier_id, n in buyers]
        taken += [("repeat_purchasers", tier_id, NO_STORE, detail, n) for tier_id, n in repeaters]
    return taken
