"""Expiring points → a small coupon (积分变现).

Rules chosen:
- Off unless POINTS_CONVERSION_TEMPLATE_ID names a coupon template. A lot can be converted
  while it expires within the points reminder window (today up to the largest offset of
  POINTS_EXPIRY_REMINDER_DAYS, default 30 days), once per lot: one coupon for
  POINTS_CONVERSION_RATE points (default 500), and the lot must still hold that many.
- The points are debited through the ledger, earliest-expiry first as every spend is, with
  the idempotency key "points_conversion:lot:<id>": the key makes it once per lot, and a
  repeated (or concurrent: the member's row lock orders them) call answers with the coupon
  already issued. The coupon comes from the mall's issuing (its limits apply; a refusal
  rolls the debit back).
- The points-expiring reminder carries the offer (handler of "points.expiring").
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, cast, literal, select

from app.clock import today
from app.errors import AppError, CouponError, PointsError
from app.extensions import db
from app.mall import coupons as mall
from app.mall.models import Coupon, CouponTemplate
from app.member_row import lock_member
from app.points import service as ledger
from app.points.expiry import reminder_offsets
from app.points.models import PointLot

SOURCE = "conversion"
KEY_PREFIX = "points_conversion:lot:"  # the ledger idempotency key and the coupon's source_ref


def _template() -> CouponTemplate | None:
    template_id = current_app.config["POINTS_CONVERSION_TEMPLATE_ID"]
    return db.session.get(CouponTemplate, template_id) if template_id else None


def offer(template: CouponTemplate) -> dict:
    return {"template_id": template.id, "coupon": template.name, "value": mall.describe(template),
            "points": current_app.config["POINTS_CONVERSION_RATE"]}


def on_points_expiring(member_id: int, expires_on, points: int, payload: dict) -> None:
    """Offer the conversion in the reminder when the points expiring would pay for it."""
    template = _template()
    if template is not None and points >= current_app.config["POINTS_CONVERSION_RATE"]:
        payload["conversion"] = offer(template)


def _window():
    day = today()
    return day, day + timedelta(days=reminder_offsets()[0])


def convertible_lots(member_id: int) -> list[PointLot]:
    """The member's lots that may be converted now, soonest-expiring first."""
    if _template() is None:
        return []
    first, last = _window()
    converted = select(Coupon.source_ref).where(Coupon.member_id == member_id, Coupon.source == SOURCE)
    return list(db.session.execute(
        select(PointLot).where(PointLot.member_id == member_id, PointLot.expires_on.between(first, last),
                               PointLot.remaining >= current_app.config["POINTS_CONVERSION_RATE"],
                               (literal(KEY_PREFIX) + cast(PointLot.id, String)).not_in(converted))
        .order_by(PointLot.expires_on, PointLot.id)).scalars())


def convert(member_id: int, lot_id: int) -> Coupon:
    """Convert one expiring lot's points into the configured coupon, once per lot."""
    lock_member(member_id)
    key = f"{KEY_PREFIX}{lot_id}"
    done = db.session.execute(select(Coupon).where(Coupon.member_id == member_id, Coupon.source == SOURCE,
                                                   Coupon.source_ref == key)).scalar_one_or_none()
    if done is not None:
        return done
    template = _template()
    if template is None:
        raise AppError(CouponError.POINTS_CONVERSION_UNAVAILABLE)
    lot = db.session.execute(select(PointLot).where(PointLot.id == lot_id, PointLot.member_id == member_id)
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if lot is None:
        raise AppError(CouponError.POINTS_LOT_NOT_FOUND)
    first, last = _window()
    rate = current_app.config["POINTS_CONVERSION_RATE"]
    if not first <= lot.expires_on <= last:
        raise AppError(CouponError.POINTS_CONVERSION_NOT_DUE, details={"expires_on": lot.expires_on.isoformat(),
                                                             "convertible_from": (lot.expires_on - (last - first))
                                                             .isoformat()})
    if lot.remaining < rate:
        raise AppError(PointsError.POINTS_INSUFFICIENT, details={"lot_remaining": lot.remaining, "required": rate})
    ledger.debit_points(member_id, rate, ledger.Posting(kind=SOURCE, key=key, ref=key))
    return mall.issue_to_locked_member(template, member_id, SOURCE, actor=f"member:{member_id}", ref=key)
