"""The ledger: the only code that changes a member's points or growth.

Every change is an append-only entry with a unique idempotency key. Points credits open
lots with an expiry date; debits draw from lots earliest-expiry first and record what
they drew. Each write holds the member's row lock (taken first, before any lot), so
`members.points_balance` stays equal to the sum of entries.

Negative balance: a clawback (e.g. a refund of points already spent) may take more than
the open lots hold. The shortfall stays as a negative balance with no lots behind it,
and later credits pay it off before opening a lot. Hence at every moment:
    points_balance = Σ points entries, and Σ open lots = max(points_balance, 0).

The writers return the id of their entry (the existing one when the key was used before).
"""
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from app.clock import now, today
from app.db_helpers import insert_or_nothing, newest_first, soonest_first
from app.errors import AppError, PointsError
from app.extensions import db
from app.member_row import Member, lock_member
from app.points.models import GROWTH, POINTS, LedgerEntry, LotConsumption, PointLot
from app.points.rules import expiry_date


@dataclass(frozen=True)
class Posting:
    """What a ledger change is: its kind, its once-only key, and who/why for audit."""

    kind: str
    key: str
    ref: str | None = None
    actor: str | None = None
    reason: str | None = None


def _existing(key: str) -> LedgerEntry | None:
    return db.session.execute(
        select(LedgerEntry).where(LedgerEntry.idempotency_key == key)
    ).scalar_one_or_none()


def _existing_id(key: str) -> int:
    return db.session.execute(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)).scalar_one()


# The statements every points change runs, built once and bound by name at each call:
# building a statement (and its cache key) costs more than running it. They run on the
# session's connection, past the ORM's bookkeeping, so the ledger keeps the session in
# step itself: new lots are flushed as soon as they are added, and the member's cached
# balance is set from what the write returns.
_MOVE_CACHE = {  # relative: the cache moves by exactly the entry's delta, and says where it ended
    account: update(Member).where(Member.id == bindparam("member_id"))
    .values({column: column + bindparam("delta")}).returning(column)
    for account, column in ((POINTS, Member.points_balance), (GROWTH, Member.growth))
}
_OPEN_LOTS_FIRST_EXPIRING = (
    select(PointLot.id, PointLot.remaining, PointLot.expires_on)
    .where(PointLot.member_id == bindparam("member_id"), PointLot.remaining > 0)
    .order_by(PointLot.expires_on, PointLot.id)
)
_TAKE_FROM_LOT = (update(PointLot.__table__).where(PointLot.id == bindparam("lot_id"))
                  .values(remaining=PointLot.remaining - bindparam("taken")))
_RECORD_DRAW = insert(LotConsumption.__table__)

# On PostgreSQL the same writes as one statement (one round trip instead of four): the
# entry unless its key exists; only if it was written, the draws from the lots with their
# records, and the cached balance moved. No row back: the key was used before.
_POST_ON_POSTGRESQL = {account: text(f"""
    WITH entry AS (
        INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, actor, reason, created_at)
        VALUES (:member_id, :account, :delta, :kind, :ref, :idempotency_key, :actor, :reason, :created_at)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id),
    draw AS (
        SELECT entry.id AS entry_id, d.lot_id, d.amount
        FROM entry, unnest(CAST(:lot_ids AS BIGINT[]), CAST(:amounts AS BIGINT[])) AS d (lot_id, amount)),
    taken AS (
        UPDATE point_lots SET remaining = remaining - draw.amount FROM draw WHERE point_lots.id = draw.lot_id),
    recorded AS (
        INSERT INTO lot_consumptions (entry_id, lot_id, amount) SELECT entry_id, lot_id, amount FROM draw)
    UPDATE members SET {column} = {column} + :delta FROM entry WHERE members.id = :member_id
    RETURNING entry.id, members.{column}""") for account, column in ((POINTS, "points_balance"), (GROWTH, "growth"))}


@functools.cache
def _insert_entry(dialect: str):
    """INSERT the entry unless its key exists (ON CONFLICT DO NOTHING) RETURNING its id."""
    return insert_or_nothing(LedgerEntry.__table__, ["idempotency_key"], dialect).returning(LedgerEntry.id)


def _append(member: Member, account: str, delta: int, posting: Posting,
            draws: Sequence[tuple[int, int]] = ()) -> int | None:
    """Write the entry, move the member's cached balance by its delta and take each (lot
    id, amount) of `draws` from its lot, recorded against the entry: the entry's id, or
    None (and nothing written) when an entry with the posting's key exists already."""
    connection = db.session.connection()
    entry = {"member_id": member.id, "account": account, "delta": delta, "kind": posting.kind, "ref": posting.ref,
             "idempotency_key": posting.key, "actor": posting.actor, "reason": posting.reason, "created_at": now()}
    if connection.dialect.name == "postgresql":
        draws_by_column = {"lot_ids": [lot_id for lot_id, _ in draws], "amounts": [amount for _, amount in draws]}
        if (written := connection.execute(_POST_ON_POSTGRESQL[account], entry | draws_by_column).first()) is None:
            return None
        entry_id, cached = written
    else:
        if (entry_id := connection.execute(_insert_entry(connection.dialect.name), entry).scalar_one_or_none()) is None:
            return None
        cached = connection.execute(_MOVE_CACHE[account], {"member_id": member.id, "delta": delta}).scalar_one()
        if draws:
            connection.execute(_TAKE_FROM_LOT, [{"lot_id": lot_id, "taken": amount} for lot_id, amount in draws])
            connection.execute(_RECORD_DRAW, [{"entry_id": entry_id, "lot_id": lot_id, "amount": amount}
                                              for lot_id, amount in draws])
    # The session's copy of the member stays current without a reload.
    set_committed_value(member, "points_balance" if account == POINTS else "growth", cached)
    return entry_id


def credit_points(member_id: int, amount: int, posting: Posting, expires_on: date | None = None) -> int:
    """Add points: pay off any negative balance first, put the rest in a new lot."""
    if amount <= 0:
        raise ValueError("credit amount must be positive")
    member = lock_member(member_id)
    debt = max(-member.points_balance, 0)
    if (entry_id := _append(member, POINTS, amount, posting)) is None:
        return _existing_id(posting.key)
    lot_amount = amount - min(debt, amount)
    if lot_amount:
        expires_on = expires_on or expiry_date(current_app.config["POINTS_EXPIRY"], today())
        db.session.add(PointLot(member_id=member_id, entry_id=entry_id, amount=lot_amount,
                                remaining=lot_amount, expires_on=expires_on))
        db.session.flush()
    return entry_id


def debit_points(member_id: int, amount: int, posting: Posting, allow_negative: bool = False) -> int:
    """Take points from lots earliest-expiry first.

    Without `allow_negative` a debit larger than the usable points fails with
    POINTS_INSUFFICIENT before anything is written (a replay of a debit written
    before returns its entry). With it (clawbacks), the shortfall becomes a negative balance.
    """
    if amount <= 0:
        raise ValueError("debit amount must be positive")
    member = lock_member(member_id)
    spendable, overdue = _open_lots(member)
    if not allow_negative and amount > (usable := sum(lot.remaining for lot in spendable)):
        if (entry := _existing(posting.key)) is not None:
            return entry.id
        raise AppError(PointsError.POINTS_INSUFFICIENT, details={"balance": usable, "required": amount})
    _expire(member, overdue)
    draws, left = [], amount
    for lot in spendable:
        if left == 0:
            break
        draws.append((lot.id, min(lot.remaining, left)))
        left -= draws[-1][1]
    if (entry_id := _append(member, POINTS, -amount, posting, draws)) is None:
        return _existing_id(posting.key)
    return entry_id


def _open_lots(member: Member) -> tuple[list, list]:
    """The member's open lots (id, remaining, expires_on), earliest expiry first: those still
    spendable, and those past their last day that the expiry job has not swept yet."""
    lots = db.session.connection().execute(_OPEN_LOTS_FIRST_EXPIRING, {"member_id": member.id}).all()
    day = today()
    return [lot for lot in lots if lot.expires_on >= day], [lot for lot in lots if lot.expires_on < day]


def _expire(member: Member, overdue: list) -> None:
    """Expire overdue lots before anything spends them.

    The scheduled expiry job does the same in bulk; both guard on `remaining > 0` and
    key the entry by lot, so a lot expires once whoever gets there first.
    """
    for lot in overdue:
        posting = Posting(kind="expire", key=f"expire:lot:{lot.id}", ref=f"lot:{lot.id}")
        # the key is free: the lot is open
        _append(member, POINTS, -lot.remaining, posting, [(lot.id, lot.remaining)])


def refund_debit(debit_key: str, posting: Posting) -> int:
    """Give back what a debit took, as one credit entry whose new lots keep the expiry
    dates of the lots the debit drew from (e.g. a cancelled mall order).

    Cancelling a spend neither lengthens nor shortens the points' life: a date that has
    passed meanwhile expires those points at the next sweep, as it would have. A negative
    balance is paid off first, from the soonest-expiring part, as credits always do. Once
    per posting key. Only for debits drawn wholly from lots (not clawbacks below zero).
    """
    debit = _existing(debit_key)
    if debit is None or debit.account != POINTS or debit.delta >= 0:
        raise ValueError(f"no points debit with key {debit_key!r}")
    member = lock_member(debit.member_id)
    if entry := _existing(posting.key):
        return entry.id  # before reading the lots: a repeat does not need them
    drawn = [(expires_on, int(amount)) for expires_on, amount in db.session.execute(
        select(PointLot.expires_on, func.sum(LotConsumption.amount))
        .join(PointLot, PointLot.id == LotConsumption.lot_id)
        .where(LotConsumption.entry_id == debit.id)
        .group_by(PointLot.expires_on).order_by(PointLot.expires_on)
    ).all()]
    if sum(amount for _, amount in drawn) != -debit.delta:
        raise ValueError("only a debit drawn wholly from lots can be refunded lot by lot")
    debt = max(-member.points_balance, 0)
    entry_id = _append(member, POINTS, -debit.delta, posting)
    for expires_on, amount in drawn:
        paid = min(debt, amount)
        debt -= paid
        if amount > paid:
            db.session.add(PointLot(member_id=member.id, entry_id=entry_id, amount=amount - paid,
                                    remaining=amount - paid, expires_on=expires_on))
    db.session.flush()
    return entry_id


def change_growth(member_id: int, delta: int, posting: Posting) -> int:
    """Add (or, for a refund, take back) growth. Tier decisions belong to members/."""
    if delta == 0:
        raise ValueError("growth change must not be zero")
    member = lock_member(member_id)
    return _append(member, GROWTH, delta, posting) or _existing_id(posting.key)


@dataclass(frozen=True)
class PointsSummary:
    usable: int  # balance less lots past their date that the job has not swept yet
    next_expiry_on: date | None
    next_expiry_amount: int


# The summary as scalar subqueries over one member's open lots, bound by :member_id and :day
# (the business date). Built once: building a select costs more than running it. The card
# reads them within its own statement (summary_of), other callers through summary().
_OPEN_LOTS = (PointLot.member_id == bindparam("member_id"), PointLot.remaining > 0)
_NEXT_EXPIRY_ON = select(func.min(PointLot.expires_on)).where(
    *_OPEN_LOTS, PointLot.expires_on >= bindparam("day")).scalar_subquery()
SUMMARY_COLUMNS = (
    # overdue: past their date, not yet swept by the expiry job
    select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
        *_OPEN_LOTS, PointLot.expires_on < bindparam("day")).scalar_subquery(),
    _NEXT_EXPIRY_ON,
    select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
        *_OPEN_LOTS, PointLot.expires_on == _NEXT_EXPIRY_ON).scalar_subquery(),
)
_SUMMARY = select(*SUMMARY_COLUMNS)


def summary_params(member_id: int) -> dict:
    return {"member_id": member_id, "day": today()}


def summary_of(member: Member, overdue: int, next_on: date | None, next_amount: int) -> PointsSummary:
    """The summary from the values of SUMMARY_COLUMNS."""
    return PointsSummary(usable=member.points_balance - int(overdue), next_expiry_on=next_on,
                         next_expiry_amount=int(next_amount))


def summary(member: Member) -> PointsSummary:
    """Usable points and the next points to expire (the earliest date still to come, all its lots)."""
    return summary_of(member, *db.session.execute(_SUMMARY, summary_params(member.id)).one())


def adjust_points(member_id: int, delta: int, actor: str, reason: str) -> LedgerEntry:
    """An operator's correction: an entry like any other, with who and why. Never below zero.

    Each call is a new adjustment; retries are made safe by the caller's Idempotency-Key.
    """
    posting = Posting(kind="adjust", key=f"adjust:{uuid.uuid4().hex}", actor=actor, reason=reason)
    write = credit_points if delta > 0 else debit_points
    return db.session.get(LedgerEntry, write(member_id, abs(delta), posting))


def entries_page(member_id: int, account: str, before_id: int | None, limit: int) -> list[LedgerEntry]:
    """Newest first, `limit` entries older than the cursor."""
    return newest_first(LedgerEntry, before_id, limit, LedgerEntry.member_id == member_id,
                        LedgerEntry.account == account)


def open_lots_page(member_id: int, after_id: int | None, limit: int) -> list[PointLot]:
    """The member's usable lots (points left, not past their date), soonest expiring first (积分明细,
    即将过期); the cursor is the last lot seen."""
    return soonest_first(PointLot, PointLot.expires_on, after_id, limit,
                         PointLot.member_id == member_id, PointLot.remaining > 0, PointLot.expires_on >= today())
