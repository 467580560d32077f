"""In-store verification (核销): staff scan a coupon's code, preview it, confirm it, undo it.

- Preview: the owner (masked), the value, the conditions, and whether it can be used in
  the caller's store now, with the reason if not.
- Confirm: the same checks plus the order amount against the threshold; then a guarded
  UPDATE (… WHERE state = 'issued') makes the coupon used exactly once, and a
  verification row binds it to the store, the clerk, the order number and the time. A
  partial unique index allows one live (not undone) verification per coupon: the last
  line behind the guard. Whoever loses a race gets COUPON_ALREADY_USED with when and
  where it was used.
- Undo: a manager of the store at any time, or the clerk who verified within
  VERIFICATION_UNDO_WINDOW seconds, with a reason. The verification is marked undone by
  a guarded UPDATE (… WHERE undone_at IS NULL), so it is undone once, and the coupon
  goes back to issued (usable again, if still within its dates). Both are audited in
  coupon_events. Lock order: verification, then coupon.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.clock import local_time, now
from app.db_helpers import newest_first
from app.errors import AppError, AuthError, CouponError
from app.extensions import db
from app.mall.codes import normalize
from app.mall.coupons import VALID, discount_fen, display_state, member_coupons, transition
from app.mall.models import EXPIRED, ISSUED, USED, VOIDED, Coupon, CouponVerification
from app.member_row import Member
from app.stores.models import MANAGER, Staff


def find_coupon(code: str) -> Coupon:
    """The coupon a scanned or typed code names; anything else is simply unknown."""
    canonical = normalize(code)
    coupon = canonical and db.session.execute(select(Coupon).where(Coupon.code == canonical)).scalar_one_or_none()
    if not coupon:
        raise AppError(CouponError.COUPON_NOT_FOUND)
    return coupon


def _live_verification(coupon_id: int) -> CouponVerification | None:
    return db.session.execute(select(CouponVerification).where(
        CouponVerification.coupon_id == coupon_id, CouponVerification.undone_at.is_(None))).scalar_one_or_none()


def _shown(at: datetime) -> str:
    """An instant in an error's details, as the replies show times."""
    return local_time(at).isoformat()


def _already_used(coupon: Coupon) -> AppError:
    used = _live_verification(coupon.id)
    details = used and {"used_at": _shown(used.verified_at), "store_id": used.store_id,
                        "store_name": used.store.name}
    return AppError(CouponError.COUPON_ALREADY_USED, details=details)


def refusal(coupon: Coupon, store_id: int, at: datetime) -> AppError | None:
    """Why the coupon cannot be used in this store now (the order amount aside), or None.

    The store first: a store where the coupon is not valid learns nothing of its use."""
    stores = coupon.template.stores
    if stores and store_id not in {store.id for store in stores}:
        return AppError(CouponError.COUPON_WRONG_STORE, details={"store_ids": [store.id for store in stores]})
    state = display_state(coupon, at)
    if state == USED:
        return _already_used(coupon)
    if state == EXPIRED:
        return AppError(CouponError.COUPON_EXPIRED, details={"valid_until": _shown(coupon.valid_until)})
    if state == VOIDED:
        return AppError(CouponError.COUPON_VOIDED)
    if at < coupon.valid_from:
        return AppError(CouponError.COUPON_NOT_YET_VALID, details={"valid_from": _shown(coupon.valid_from)})
    return None


@dataclass(frozen=True)
class Preview:
    coupon: Coupon
    owner: Member
    state: str
    reason: AppError | None

    @property
    def usable(self) -> bool:
        return self.reason is None


def usable_here(member_id: int, store_id: int, limit: int = 20) -> list[Coupon]:
    """The member's coupons that can be used in this store now (the order amount aside), soonest
    ending first: up to `limit` of the 100 valid ones ending soonest (a bound on what one lookup reads)."""
    at = now()
    usable = [coupon for coupon in member_coupons(member_id, VALID, None, 100) if refusal(coupon, store_id, at) is None]
    return usable[:limit]


def store_verifications(staff: Staff, before_id: int | None, limit: int) -> list[CouponVerification]:
    """The staff account's store's verifications, newest first (undone ones included, marked)."""
    return newest_first(CouponVerification, before_id, limit, store_id=staff.store_id)


def preview(staff: Staff, code: str) -> Preview:
    coupon = find_coupon(code)
    at = now()
    return Preview(coupon, db.session.get(Member, coupon.member_id), display_state(coupon, at),
                   refusal(coupon, staff.store_id, at))


def confirm(staff: Staff, code: str, order_no: str, order_amount_fen: int) -> CouponVerification:
    coupon = find_coupon(code)
    at = now()
    if error := refusal(coupon, staff.store_id, at):
        raise error
    template = coupon.template
    if order_amount_fen < template.threshold_fen:
        raise AppError(CouponError.COUPON_BELOW_THRESHOLD, details={"threshold_fen": template.threshold_fen})
    if not transition(coupon, ISSUED, USED, f"staff:{staff.id}", at, store_id=staff.store_id,
                      ref=f"order:{order_no}"):
        raise _already_used(coupon)  # a concurrent confirm got there first
    verification = CouponVerification(
        coupon_id=coupon.id, store_id=staff.store_id, staff_id=staff.id, order_no=order_no,
        order_amount_fen=order_amount_fen, discount_fen=discount_fen(template, order_amount_fen), verified_at=at)
    db.session.add(verification)
    db.session.flush()
    return verification


def undo(staff: Staff, verification_id: int, reason: str) -> CouponVerification:
    verification = db.session.get(CouponVerification, verification_id)
    if verification is None:
        raise AppError(CouponError.VERIFICATION_NOT_FOUND)
    if verification.store_id != staff.store_id:
        raise AppError(AuthError.STORE_FORBIDDEN)
    at = now()
    if staff.role != MANAGER:
        if verification.staff_id != staff.id:
            raise AppError(AuthError.ROLE_FORBIDDEN)
        if at - verification.verified_at > timedelta(seconds=current_app.config["VERIFICATION_UNDO_WINDOW"]):
            raise AppError(CouponError.VERIFICATION_UNDO_EXPIRED)
    undone = db.session.execute(
        update(CouponVerification)
        .where(CouponVerification.id == verification.id, CouponVerification.undone_at.is_(None))
        .values(undone_at=at, undone_by_staff_id=staff.id, undo_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not undone:
        raise AppError(CouponError.VERIFICATION_ALREADY_UNDONE)
    coupon = db.session.get(Coupon, verification.coupon_id)
    restored = transition(coupon, USED, ISSUED, f"staff:{staff.id}", at, store_id=staff.store_id,
                          ref=f"verification:{verification.id}", reason=reason)
    if not restored:  # one live verification per coupon: a used coupon is used by this one
        raise RuntimeError(f"coupon {coupon.id} of verification {verification.id} was not in use")
    db.session.refresh(verification)
    return verification
