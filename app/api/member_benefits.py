"""The member's tier benefits to claim (权益领取), with their countdown (member token)."""
from flask import g

from app.api.benefit_schemas import ClaimedSchema, EntitlementSchema
from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.pagination import page_schema, whole
from app.api.principals import require
from app.errors import CouponError
from app.mall import benefits
from app.security import MEMBER

blp = Blueprint("member_benefits", __name__, url_prefix="/api/v1/member",
                description="Tier benefits to claim (member token)")
blp.before_request(require(MEMBER))


@blp.route("/benefits")
@blp.response(200, page_schema(EntitlementSchema))
def list_benefits():
    """The caller's benefits: claimable ones first (soonest ending first, with days left), then the
    latest 50 of the rest (one page)."""
    return whole(benefits.member_benefits(g.principal.id))


@blp.route("/benefits/<int:grant_id>/claim", methods=["POST"])
@blp.errors(CouponError.COUPON_TEMPLATE_NOT_FOUND, CouponError.COUPON_TEMPLATE_CLOSED, CouponError.COUPON_SOLD_OUT,
            CouponError.COUPON_LIMIT_REACHED, CouponError.BENEFIT_NOT_FOUND, CouponError.BENEFIT_EXPIRED)
@mutation
@blp.response(200, ClaimedSchema)
def claim_benefit(grant_id):
    """Claim a benefit: its coupons are issued once; claiming again answers with the same coupons.
    409 BENEFIT_EXPIRED after its last day; the mall's coupon limits apply (nothing is issued then)."""
    return benefits.claim(g.principal.id, grant_id)
