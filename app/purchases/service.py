"""Purchases recorded by store staff, and their refunds, posted to points and growth.

Earning (see app/points/rules.py): points = floor(yuan × POINTS_PER_YUAN × the tier's
multiplier at the time of purchase); growth = floor(yuan × GROWTH_PER_YUAN).
A refund reverses both in proportion to the amount refunded; the parts of a full refund
add up exactly to what the purchase earned. Points already spent are clawed back as a
negative balance (see app/points/service.py), never silently lost. Growth taken back
may lower the tier at once: a tier is not kept on a purchase that was returned.

What one staff account may record is capped per purchase and per business day (the
*_PURCHASE_LIMIT_FEN and *_DAILY_LIMIT_FEN settings of its role): above a clerk's
ceiling a manager must record the purchase. The day's total counts every purchase the
account recorded that day, refunded or not, so a refund never makes room for more.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.clock import start_of_day, today
from app.db_helpers import insert_ignoring_conflict, lock, newest_first
from app.engagement import referral
from app.errors import AppError, AuthError, MemberError, PointsError
from app.events import emit
from app.extensions import db
from app.members import service as members
from app.points import service as ledger
from app.points.rules import growth_for, points_for, reversal_due
from app.purchases.models import Purchase, Refund
from app.stores.models import MANAGER, Staff


def record_purchase(staff: Staff, member_id: int, order_no: str, amount_fen: int) -> tuple[Purchase, bool]:
    """Record once per (store, order number); a replay of the same order returns it."""
    # The member's lock first (the lock order, app/db_helpers.py; with the inviter's before it
    # while a referral the purchase may qualify is pending): inserting the purchase takes a
    # key-share lock on the member row, and upgrading it afterwards deadlocks against a twin.
    member = referral.lock_invitee(member_id)
    if member is None:
        raise AppError(MemberError.MEMBER_NOT_FOUND)
    # Then the staff row: the account's purchases queue here, so each one sees the day's
    # total with every earlier one in it.
    _check_ceilings(lock(Staff, staff.id), order_no, amount_fen)
    config = current_app.config
    points = points_for(amount_fen, config["POINTS_PER_YUAN"], member.tier.points_multiplier_pct)
    growth = growth_for(amount_fen, config["GROWTH_PER_YUAN"])
    created = insert_ignoring_conflict(Purchase, {
        "store_id": staff.store_id, "member_id": member.id, "staff_id": staff.id,
        "order_no": order_no, "amount_fen": amount_fen, "refunded_fen": 0,
        "points_earned": points, "growth_earned": growth,
    }, ["store_id", "order_no"])
    purchase = db.session.execute(
        select(Purchase).where(Purchase.store_id == staff.store_id, Purchase.order_no == order_no)
    ).scalar_one()
    if not created:
        if (purchase.member_id, purchase.amount_fen) != (member.id, amount_fen):
            raise AppError(PointsError.ORDER_DUPLICATE, details={"purchase_id": purchase.id})
        return purchase, False
    ref = f"purchase:{purchase.id}"
    if points:
        ledger.credit_points(member.id, points, ledger.Posting(kind="purchase", key=f"{ref}:points", ref=ref))
    if growth:
        members.change_growth(member.id, growth, ledger.Posting(kind="purchase", key=f"{ref}:growth", ref=ref))
    first = db.session.execute(select(func.count()).select_from(Purchase)
                               .where(Purchase.member_id == member.id)).scalar_one() == 1
    emit("purchase.recorded", purchase=purchase, first=first)
    return purchase, True


def _check_ceilings(staff: Staff, order_no: str, amount_fen: int) -> None:
    config, role = current_app.config, staff.role.upper()
    ceiling = config[f"{role}_PURCHASE_LIMIT_FEN"]
    if amount_fen > ceiling:
        if amount_fen <= config["MANAGER_PURCHASE_LIMIT_FEN"]:
            raise AppError(PointsError.PURCHASE_NEEDS_MANAGER, details={"limit_fen": ceiling})
        raise AppError(PointsError.PURCHASE_ABOVE_LIMIT, details={"limit_fen": config["MANAGER_PURCHASE_LIMIT_FEN"]})
    day = today()
    recorded = int(db.session.execute(select(func.coalesce(func.sum(Purchase.amount_fen), 0)).where(
        Purchase.staff_id == staff.id,
        Purchase.created_at >= start_of_day(day), Purchase.created_at < start_of_day(day + timedelta(days=1)),
        # not this order itself: replaying it must not count it twice
        or_(Purchase.store_id != staff.store_id, Purchase.order_no != order_no),
    )).scalar_one())  # PostgreSQL sums a BIGINT as NUMERIC
    if recorded + amount_fen > config[f"{role}_DAILY_LIMIT_FEN"]:
        raise AppError(PointsError.STAFF_DAILY_LIMIT_REACHED,
                       details={"limit_fen": config[f"{role}_DAILY_LIMIT_FEN"], "recorded_fen": recorded})


def store_purchases(staff: Staff, order_no: str | None, before_id: int | None, limit: int) -> list[Purchase]:
    """The staff account's store's purchases, newest first; `order_no` finds one."""
    return newest_first(Purchase, before_id, limit, store_id=staff.store_id, order_no=order_no)


def member_purchases(member_id: int, before_id: int | None, limit: int) -> list[Purchase]:
    """The member's own purchases, newest first, each with its store and refunds."""
    return newest_first(Purchase, before_id, limit, member_id=member_id,
                        options=(selectinload(Purchase.store), selectinload(Purchase.refunds)))


def get_purchase(staff: Staff, purchase_id: int) -> Purchase:
    purchase = db.session.get(Purchase, purchase_id)
    return _in_store(staff, purchase)


def _in_store(staff: Staff, purchase: Purchase | None) -> Purchase:
    if purchase is None:
        raise AppError(PointsError.PURCHASE_NOT_FOUND)
    if purchase.store_id != staff.store_id:
        raise AppError(AuthError.STORE_FORBIDDEN)
    return purchase


def refund(staff: Staff, purchase_id: int, refund_no: str, amount_fen: int) -> tuple[Refund, bool]:
    """Refund part or all of a purchase, once per refund number. Managers only."""
    if staff.role != MANAGER:
        raise AppError(AuthError.ROLE_FORBIDDEN)
    # The member (and the inviter, if the purchase qualified a referral), then the purchase:
    # the lock order. The purchase's row lock serializes its refunds, so the checks below
    # cannot race; its member never changes, so it is read before the lock.
    referral.lock_for_refund(_in_store(staff, db.session.get(Purchase, purchase_id)))
    purchase = lock(Purchase, purchase_id)
    existing = db.session.execute(
        select(Refund).where(Refund.purchase_id == purchase.id, Refund.refund_no == refund_no)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise AppError(PointsError.REFUND_DUPLICATE, details={"refund_id": existing.id})
        return existing, False
    refundable = purchase.amount_fen - purchase.refunded_fen
    if amount_fen > refundable:
        raise AppError(PointsError.REFUND_EXCEEDS_PURCHASE, details={"refundable_fen": refundable})
    points = reversal_due(purchase.points_earned, purchase.amount_fen, purchase.refunded_fen, amount_fen)
    growth = reversal_due(purchase.growth_earned, purchase.amount_fen, purchase.refunded_fen, amount_fen)
    record = Refund(purchase_id=purchase.id, refund_no=refund_no, staff_id=staff.id, amount_fen=amount_fen,
                    points_reversed=points, growth_reversed=growth)
    db.session.add(record)
    purchase.refunded_fen += amount_fen
    db.session.flush()
    ref = f"refund:{record.id}"
    if points:
        ledger.debit_points(purchase.member_id, points, ledger.Posting(kind="refund", key=f"{ref}:points", ref=ref),
                            allow_negative=True)
    if growth:
        members.change_growth(purchase.member_id, -growth, ledger.Posting(kind="refund", key=f"{ref}:growth", ref=ref),
                              allow_downgrade=True)
    emit("purchase.refunded", purchase=purchase, refund=record)
    return record, True


def purchases_page(member_id: int, before_id: int | None, limit: int) -> list[Purchase]:
    """The member's purchases in every store, newest first."""
    return newest_first(Purchase, before_id, limit, member_id=member_id)
