"""Schemas of the tier benefits to claim and of the expiring points → coupon conversion."""
from marshmallow import Schema, fields, validate

from app.api.display import tier_name
from app.api.mall_schemas import CouponSchema
from app.api.schemas import Strict, ZonedDateTime, one_of
from app.mall.benefit_models import BENEFIT_KINDS, CLAIMABLE, CLAIMED, EXPIRED


class PackCouponSchema(Schema):
    template_id = fields.Integer()
    name = fields.String()
    value = fields.String()
    count = fields.Integer()


class EntitlementSchema(Schema):
    """A benefit granted to the member; `days_left` counts down while it can be claimed (0 = last day)."""

    id = fields.Integer(attribute="grant.id")
    benefit = one_of(BENEFIT_KINDS, attribute="grant.benefit")
    name = fields.String()
    period = fields.String(attribute="grant.period")
    tier = fields.Function(lambda entitlement: tier_name(entitlement.grant.tier_id), metadata={
        "type": "string", "nullable": True, "description": "the tier that gave it, by name", "example": "金卡"})
    state = one_of([CLAIMABLE, CLAIMED, EXPIRED])
    expires_on = fields.Date()
    days_left = fields.Integer(allow_none=True)
    claimed_at = ZonedDateTime(attribute="grant.claimed_at", allow_none=True)
    coupons = fields.List(fields.Nested(PackCouponSchema))


class ClaimedSchema(Schema):
    benefit = fields.Nested(EntitlementSchema, attribute="entitlement")
    coupons = fields.List(fields.Nested(CouponSchema))


class ClaimRateArgs(Strict):
    benefit = fields.String(validate=validate.OneOf(BENEFIT_KINDS))


class ClaimRateSchema(Schema):
    benefit = one_of(BENEFIT_KINDS)
    period = fields.String()
    granted = fields.Integer()
    claimed = fields.Integer()
    expired = fields.Integer()
    claim_rate = fields.Float()


class ConvertibleLotSchema(Schema):
    """Points expiring soon that may become a coupon (积分变现)."""

    lot_id = fields.Integer(attribute="id")
    remaining = fields.Integer()
    expires_on = fields.Date()
