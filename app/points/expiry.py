"""Scheduled points expiry and the reminders before it.

Expiry (`expire_overdue`): lots whose last day (`expires_on`, a business date) is
before today expire, in batches of members, with set-based SQL, each batch in its own
transaction:
1. pick the next members with overdue open lots (ordered by member id, after a cursor);
2. lock those members' rows in id order, skipping rows another transaction holds
   (app/member_row.lock_members with skip_locked: PostgreSQL's FOR NO KEY UPDATE SKIP
   LOCKED; SQLite serializes writers). Member before lots,
   as app/points/service.py does, so expiry and spending never deadlock;
3. for the locked members' overdue lots (`remaining > 0`): INSERT … SELECT one ledger
   entry per lot (kind "expire", key "expire:lot:<id>", the same key the spending
   path uses), INSERT … SELECT the lot consumptions, lower each member's balance by the
   sum, set the lots' `remaining` to 0.
The lock and the `remaining > 0` guard make each lot expire once whoever runs, and the
unique entry key is the last line. A member skipped because it was locked (a spend in
progress, or a second expiry run) is expired by that spend (which expires overdue lots
first) or by the next run. Balance = Σ entries = Σ open lots holds after every batch.

Reminders (`remind_expiring`): for each offset in POINTS_EXPIRY_REMINDER_DAYS (default
30 and 7), members with open lots expiring within that many days get one
`points_expiring` event per (member, expiry date, offset); a date inside a smaller
offset's window gets only the smaller offset's reminder, and a missed day is caught up.

The seam for 积分变现 (turning expiring points into a coupon, built with the mall): the
in-process event "points.expiring" (member_id, expires_on, points, payload) is emitted for
each reminder about to be written; a handler may add an offer to `payload`.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, cast, func, insert, literal, select, update

from app.batches import Batches
from app.clock import now, today
from app.db_helpers import iso_date
from app.events import emit
from app.extensions import db
from app.member_row import Member, lock_members
from app.messaging.kinds import EventKind
from app.messaging.reminders import not_reminded, remind_once
from app.points.models import POINTS, LedgerEntry, LotConsumption, PointLot

EXPIRE = "expire"
REMINDER_KIND = EventKind.POINTS_EXPIRING


def _overdue(day):
    return (PointLot.remaining > 0) & (PointLot.expires_on < day)


def expire_overdue() -> Batches:
    """Expire every overdue lot, batch by batch (a sweep: app/batches.py)."""
    day, batch = today(), current_app.config["POINTS_EXPIRY_BATCH"]
    counts = {"members": 0, "lots": 0, "points": 0}
    cursor = 0
    while True:
        candidates = db.session.execute(
            select(PointLot.member_id).where(_overdue(day), PointLot.member_id > cursor)
            .order_by(PointLot.member_id).limit(batch)
        ).scalars().all()
        if not candidates:
            return counts
        cursor = candidates[-1]
        locked = [member.id for member in lock_members(candidates, skip_locked=True)]
        lots, points = _expire_lots_of(locked, day)
        yield
        counts["members"] += len(locked) if lots else 0
        counts["lots"] += lots
        counts["points"] += points


def _expire_lots_of(member_ids: list[int], day) -> tuple[int, int]:
    """Expire the overdue lots of members whose rows this transaction holds locked."""
    if not member_ids:
        return 0, 0
    overdue = _overdue(day) & PointLot.member_id.in_(member_ids)
    lots, points = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PointLot.remaining), 0)).where(overdue)).one()
    if not lots:
        return 0, 0
    key = literal("expire:lot:") + cast(PointLot.id, String)
    db.session.execute(insert(LedgerEntry).from_select(
        ["member_id", "account", "delta", "kind", "ref", "idempotency_key", "created_at"],
        select(PointLot.member_id, literal(POINTS), -PointLot.remaining, literal(EXPIRE),
               literal("lot:") + cast(PointLot.id, String), key, literal(now(), LedgerEntry.created_at.type))
        .where(overdue)))
    db.session.execute(insert(LotConsumption).from_select(
        ["entry_id", "lot_id", "amount"],
        select(LedgerEntry.id, PointLot.id, PointLot.remaining)
        .join(LedgerEntry, LedgerEntry.idempotency_key == key).where(overdue)))
    expired_of_member = (select(func.coalesce(func.sum(PointLot.remaining), 0))
                         .where(overdue, PointLot.member_id == Member.id).scalar_subquery())
    db.session.execute(update(Member).where(Member.id.in_(member_ids))
                       .values(points_balance=Member.points_balance - expired_of_member)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(PointLot).where(overdue).values(remaining=0)
                       .execution_options(synchronize_session=False))
    return lots, int(points)  # PostgreSQL sums BIGINT as NUMERIC


def reminder_offsets() -> list[int]:
    """The configured offsets in days, largest first ("90,30,7" → [90, 30, 7])."""
    return sorted({int(days) for days in current_app.config["POINTS_EXPIRY_REMINDER_DAYS"].split(",")},
                  reverse=True)


def remind_expiring() -> Batches:
    """Write the points-expiring reminders due today, in batches (a sweep: app/batches.py)."""
    day, batch = today(), current_app.config["POINTS_EXPIRY_BATCH"]
    offsets = reminder_offsets()
    counts = {}
    for offset, smaller in zip(offsets, [*offsets[1:], -1]):
        key = iso_date(PointLot.expires_on) + literal(f":{offset}")  # as the Python key below
        # expiring in (smaller, offset] days: this offset's window, not yet a smaller one's
        find = (select(PointLot.member_id, PointLot.expires_on, func.sum(PointLot.remaining))
                .where(PointLot.remaining > 0,
                       PointLot.expires_on > day + timedelta(days=smaller),
                       PointLot.expires_on <= day + timedelta(days=offset),
                       not_reminded(REMINDER_KIND, PointLot.member_id, key))
                .group_by(PointLot.member_id, PointLot.expires_on)
                .order_by(PointLot.member_id, PointLot.expires_on).limit(batch))
        written = 0
        while due := db.session.execute(find).all():
            points = {(member_id, f"{on.isoformat()}:{offset}"): (on, int(total)) for member_id, on, total in due}
            written += remind_once(REMINDER_KIND, list(points),
                                   lambda member_id, key: _payload(member_id, *points[(member_id, key)], day, offset))
            yield
        counts[f"within_{offset}_days"] = written
    return counts


def _payload(member_id: int, expires_on, points: int, day, offset: int) -> dict:
    payload = {"points": points, "expires_on": expires_on.isoformat(), "days_left": (expires_on - day).days,
               "offset_days": offset}
    emit("points.expiring", member_id=member_id, expires_on=expires_on, points=points, payload=payload)
    return payload
