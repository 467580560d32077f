"""Expiring points → a small coupon (积分变现) (member token)."""
from flask import g

from app.api.benefit_schemas import ConvertibleLotSchema
from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.mall_schemas import CouponDetailSchema
from app.api.pagination import page_schema, whole
from app.api.principals import require
from app.errors import CouponError, PointsError
from app.mall import points_conversion
from app.security import MEMBER

blp = Blueprint("member_points_conversion", __name__, url_prefix="/api/v1/member",
                description="Expiring points → coupon (member token)")
blp.before_request(require(MEMBER))


@blp.route("/points/conversions")
@blp.response(200, page_schema(ConvertibleLotSchema))
def convertible():
    """The caller's points lots that may be converted now (expiring within the reminder window: one page)."""
    return whole(points_conversion.convertible_lots(g.principal.id))


@blp.route("/points/lots/<int:lot_id>/conversion", methods=["POST"])
@blp.errors(PointsError.POINTS_INSUFFICIENT, CouponError.COUPON_TEMPLATE_CLOSED, CouponError.COUPON_SOLD_OUT,
            CouponError.COUPON_LIMIT_REACHED, CouponError.POINTS_LOT_NOT_FOUND,
            CouponError.POINTS_CONVERSION_UNAVAILABLE, CouponError.POINTS_CONVERSION_NOT_DUE)
@mutation
@blp.response(201, CouponDetailSchema)
def convert(lot_id):
    """Convert one expiring lot into the configured coupon, once per lot (again: the same coupon).
    409 POINTS_CONVERSION_NOT_DUE / POINTS_INSUFFICIENT / POINTS_CONVERSION_UNAVAILABLE."""
    return points_conversion.convert(g.principal.id, lot_id)
