"""Coupon templates and issued coupons: issuing within limits, the member's list, voiding, expiry.

Rules chosen here:
- Validity. A fixed window is two business dates, both inclusive. "N days from issue"
  counts the day of issue: a coupon issued at any time on 3 June with N = 7 is valid
  until the end of 9 June (business zone). Coupons store the resulting UTC instants,
  `valid_until` exclusive.
- Limits count every coupon ever issued from the template (used, expired and voided
  included): a voided coupon does not give its place back.
- No race on limits. The total limit is a guarded UPDATE of the template's
  `issued_count` (… WHERE issued_count < total_limit), so the row lock orders issuers and
  the loser sees the final count. The per-member limit is counted under the member's row
  lock, taken first (lock order: member, then template); the unique (template, member,
  n-th) slot is the last line behind it.
- Every state change is a guarded UPDATE (… WHERE state = <expected>) plus a row in
  coupon_events with who, where, when and why.
- A coupon past its end still reads "issued" until the sweep `expire_coupons` records
  the change; everything that reads coupons treats it as expired already.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from app.batches import Batches
from app.clock import last_day, local_date, now, start_of_day
from app.db_helpers import newest_first, soonest_first
from app.errors import AppError, CouponError, StoreError, invalid_field
from app.extensions import db
from app.mall.codes import new_code
from app.mall.models import (
    AMOUNT_OFF,
    EXPIRED,
    GIFT,
    ISSUED,
    PERCENT_OFF,
    THRESHOLD_OFF,
    USED,
    VOIDED,
    Coupon,
    CouponEvent,
    CouponTemplate,
)
from app.member_row import lock_member
from app.stores.models import Store

SYSTEM = "system"
# the tabs of a member's coupon list
VALID = "valid"
TABS = (VALID, USED, EXPIRED, VOIDED)


@dataclass(frozen=True)
class Window:
    valid_from: datetime
    valid_until: datetime  # exclusive


def validity(template: CouponTemplate, issued_at: datetime) -> Window:
    if template.valid_days is not None:
        return Window(issued_at, start_of_day(local_date(issued_at) + timedelta(days=template.valid_days)))
    return Window(start_of_day(template.valid_from), start_of_day(template.valid_until + timedelta(days=1)))


def closed(template: CouponTemplate, at: datetime) -> bool:
    """Issues nothing any more: switched off, or its fixed window has ended."""
    return not template.active or validity(template, at).valid_until <= at


def left_to_issue(template: CouponTemplate) -> int | None:
    """None when the template has no total limit."""
    return None if template.total_limit is None else template.total_limit - template.issued_count


def held_counts(member_id: int, template_ids: list[int]) -> dict[int, int]:
    """Per template, the coupons ever issued to the member (what its per-member limit counts)."""
    if not template_ids:
        return {}
    return dict(db.session.execute(select(Coupon.template_id, func.count()).where(
        Coupon.member_id == member_id, Coupon.template_id.in_(template_ids)).group_by(Coupon.template_id)).all())


def member_limit_reached(template: CouponTemplate, held: int) -> bool:
    return template.per_member_limit is not None and held >= template.per_member_limit


def discount_fen(template: CouponTemplate, amount_fen: int) -> int:
    """What the coupon takes off an order of this amount (a gift coupon takes nothing off)."""
    if template.kind in (AMOUNT_OFF, THRESHOLD_OFF):
        return min(template.amount_off_fen, amount_fen)
    if template.kind == PERCENT_OFF:
        off = amount_fen * template.percent_off // 100
        return off if template.max_off_fen is None else min(off, template.max_off_fen)
    return 0


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}".rstrip("0") if cents else str(whole)


def describe(template: CouponTemplate) -> str:
    """The value in words, as a coupon shows it: 满100元减20元, 8.5折，最高减50元, …"""
    if template.kind == THRESHOLD_OFF:
        return f"满{_yuan(template.threshold_fen)}元减{_yuan(template.amount_off_fen)}元"
    if template.kind == AMOUNT_OFF:
        text = f"{_yuan(template.amount_off_fen)}元代金券"
    elif template.kind == PERCENT_OFF:
        pays = 100 - template.percent_off
        text = f"{pays // 10}{'.' + str(pays % 10) if pays % 10 else ''}折"
        if template.max_off_fen is not None:
            text += f"，最高减{_yuan(template.max_off_fen)}元"
    else:
        text = f"兑换：{template.gift_name}"
    return text + (f"（满{_yuan(template.threshold_fen)}元可用）" if template.threshold_fen else "")


def display_state(coupon: Coupon, at: datetime) -> str:
    return EXPIRED if coupon.state == ISSUED and coupon.valid_until <= at else coupon.state


def days_left(coupon: Coupon, at: datetime) -> int | None:
    """Business days after today it can still be used (0 on its last day; counted to its end even
    before its first day); None once it cannot be used any more (used, expired, voided)."""
    if display_state(coupon, at) != ISSUED:
        return None
    return (last_day(coupon.valid_until) - local_date(at)).days


# --- templates ---------------------------------------------------------------------------


def get_template(template_id: int) -> CouponTemplate:
    template = db.session.get(CouponTemplate, template_id)
    if template is None:
        raise AppError(CouponError.COUPON_TEMPLATE_NOT_FOUND)
    return template


def all_templates() -> list[CouponTemplate]:
    """Every template, newest first: the choices of a form (a handful of rows)."""
    return list(db.session.execute(select(CouponTemplate).order_by(CouponTemplate.id.desc())).scalars())


def templates_page(before_id: int | None, limit: int) -> list[CouponTemplate]:
    return newest_first(CouponTemplate, before_id, limit)


def _stores(store_ids: list[int]) -> list[Store]:
    stores = list(db.session.execute(select(Store).where(Store.id.in_(store_ids))).scalars())
    if len(stores) != len(set(store_ids)):
        raise AppError(StoreError.STORE_NOT_FOUND,
                       details={"store_ids": sorted(set(store_ids) - {s.id for s in stores})})
    return stores


def create_template(store_ids: list[int] | None = None, **fields) -> CouponTemplate:
    template = CouponTemplate(**fields, stores=_stores(store_ids or []), issued_count=0)
    _check_value_and_validity(template)
    db.session.add(template)
    db.session.flush()
    return template


_VALUE_FIELDS = {AMOUNT_OFF: ["amount_off_fen"], THRESHOLD_OFF: ["amount_off_fen", "threshold_fen"],
                 PERCENT_OFF: ["percent_off"], GIFT: ["gift_name"]}


def _check_value_and_validity(template: CouponTemplate) -> None:
    """What its kind needs, exactly one validity rule (valid_days, or both ends of a window), in order."""
    for name in _VALUE_FIELDS[template.kind]:
        if not getattr(template, name):
            raise invalid_field(name, "此类型的优惠券必填")
    window = template.valid_from, template.valid_until
    one_rule = window == (None, None) if template.valid_days is not None else None not in window
    if not one_rule:
        raise invalid_field("valid_days", "有效期须二选一：填写 valid_days，或同时填写 valid_from 和 valid_until")
    if None not in window and window[1] < window[0]:
        raise invalid_field("valid_until", "不能早于 valid_from")
    if template.kind == THRESHOLD_OFF and template.threshold_fen < template.amount_off_fen:
        raise invalid_field("threshold_fen", "不能小于 amount_off_fen")


def update_template(template_id: int, **fields) -> CouponTemplate:
    """Name and on/off only: value, validity and limits stay as members received them."""
    template = get_template(template_id)
    for name, value in fields.items():
        setattr(template, name, value)
    db.session.flush()
    return template


# --- issuing -----------------------------------------------------------------------------


def issue_coupon(template_id: int, member_id: int, source: str, actor: str, ref: str | None = None,
                 store_id: int | None = None, reason: str | None = None) -> Coupon:
    """Issue one coupon within the template's limits (any way: redemption, benefit, claim, grant)."""
    lock_member(member_id)
    return issue_to_locked_member(get_template(template_id), member_id, source, actor, ref, store_id, reason)


def issue_to_locked_member(template: CouponTemplate, member_id: int, source: str, actor: str,
                           ref: str | None = None, store_id: int | None = None,
                           reason: str | None = None) -> Coupon:
    """As issue_coupon, for a caller that already holds the member's row lock."""
    at = now()
    if closed(template, at):
        raise AppError(CouponError.COUPON_TEMPLATE_CLOSED)
    window = validity(template, at)
    held = held_counts(member_id, [template.id]).get(template.id, 0)
    if member_limit_reached(template, held):
        raise AppError(CouponError.COUPON_LIMIT_REACHED, details={"per_member_limit": template.per_member_limit})
    counted = db.session.execute(
        update(CouponTemplate)
        .where(CouponTemplate.id == template.id,
               or_(CouponTemplate.total_limit.is_(None), CouponTemplate.issued_count < CouponTemplate.total_limit))
        .values(issued_count=CouponTemplate.issued_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not counted:
        raise AppError(CouponError.COUPON_SOLD_OUT)
    coupon = Coupon(code=new_code(), template_id=template.id, member_id=member_id, member_seq=held + 1,
                    state=ISSUED, valid_from=window.valid_from, valid_until=window.valid_until,
                    source=source, source_ref=ref, issued_at=at)
    db.session.add(coupon)
    db.session.flush()
    _record(coupon.id, None, ISSUED, actor, at, store_id=store_id, ref=ref, reason=reason)
    return coupon


# --- state changes -----------------------------------------------------------------------


def _record(coupon_id: int, from_state: str | None, to_state: str, actor: str, at: datetime,
            store_id: int | None = None, ref: str | None = None, reason: str | None = None) -> None:
    db.session.add(CouponEvent(coupon_id=coupon_id, from_state=from_state, to_state=to_state, actor=actor,
                               store_id=store_id, ref=ref, reason=reason, created_at=at))


def transition(coupon: Coupon, from_state: str, to_state: str, actor: str, at: datetime,
               store_id: int | None = None, ref: str | None = None, reason: str | None = None) -> bool:
    """Move the coupon from one state to another if it is still in `from_state`; audited.

    False when another transaction changed it first (the guarded UPDATE matched nothing).
    """
    moved = db.session.execute(
        update(Coupon).where(Coupon.id == coupon.id, Coupon.state == from_state).values(state=to_state)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if moved:
        coupon.state = to_state
        _record(coupon.id, from_state, to_state, actor, at, store_id=store_id, ref=ref, reason=reason)
        db.session.flush()
    return moved


def void_coupon(coupon_id: int, actor: str, reason: str) -> Coupon:
    """An operator withdraws an unused coupon (issued by mistake, abuse)."""
    coupon = get_coupon(coupon_id)
    if not transition(coupon, ISSUED, VOIDED, actor, now(), reason=reason):
        db.session.refresh(coupon)
        raise AppError(CouponError.COUPON_NOT_VOIDABLE, details={"state": coupon.state})
    return coupon


def expire_coupons(at: datetime | None = None) -> Batches:
    """Record the expiry of every issued coupon past its end (the scheduled sweep, app/batches.py),
    in batches of COUPON_EXPIRY_BATCH; idempotent."""
    at = at or now()
    lapsed = (select(Coupon.id).where(Coupon.state == ISSUED, Coupon.valid_until <= at).order_by(Coupon.id)
              .limit(current_app.config["COUPON_EXPIRY_BATCH"]).with_for_update(skip_locked=True))
    total = 0
    while expired := db.session.execute(
            update(Coupon).where(Coupon.id.in_(lapsed.scalar_subquery())).values(state=EXPIRED)
            .returning(Coupon.id).execution_options(synchronize_session=False)).scalars().all():
        db.session.execute(insert(CouponEvent), [
            {"coupon_id": coupon_id, "from_state": ISSUED, "to_state": EXPIRED, "actor": SYSTEM, "created_at": at}
            for coupon_id in expired])
        yield
        total += len(expired)
    return {"expired": total}


# --- reading -----------------------------------------------------------------------------


def get_coupon(coupon_id: int) -> Coupon:
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None:
        raise AppError(CouponError.COUPON_NOT_FOUND)
    return coupon


def member_coupon(member_id: int, coupon_id: int) -> Coupon:
    """One of the member's own coupons; another member's reads as not found."""
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or coupon.member_id != member_id:
        raise AppError(CouponError.COUPON_NOT_FOUND)
    return coupon


def _in_tab(tab: str, at: datetime):
    live = and_(Coupon.state == ISSUED, Coupon.valid_until > at)
    if tab == VALID:
        return live
    if tab == EXPIRED:
        return or_(Coupon.state == EXPIRED, and_(Coupon.state == ISSUED, Coupon.valid_until <= at))
    return Coupon.state == tab


def member_coupons(member_id: int, tab: str, after_id: int | None, limit: int) -> list[Coupon]:
    """The member's coupons in one tab, soonest-expiring first; the cursor is the last id seen."""
    return soonest_first(Coupon, Coupon.valid_until, after_id, limit, Coupon.member_id == member_id,
                         _in_tab(tab, now()))


# Coupons the member still holds (issued, not past their end; some may open later) as a
# scalar subquery bound by :member_id and :at (now): the card reads it within its own statement.
USABLE_COUNT = select(func.count()).select_from(Coupon).where(
    Coupon.member_id == bindparam("member_id"), _in_tab(VALID, bindparam("at"))).scalar_subquery()


def coupons_page(member_id: int, before_id: int | None, limit: int) -> list[Coupon]:
    """Every coupon issued to the member, newest first (an operator's view: all states)."""
    return newest_first(Coupon, before_id, limit, member_id=member_id)
