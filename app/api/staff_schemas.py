"""Schemas of the cashier's screens: who is logged in, the member a lookup finds with the coupons
usable here, a purchase with the member's new standing, the store's recent purchases and
verifications."""
from marshmallow import Schema, fields

from app.api.mall_schemas import ORDER_NO, CouponSchema, StoreRefSchema, VerificationSchema
from app.api.pagination import page_schema
from app.api.schemas import CursorArgs, MemberLookupSchema, PurchaseSchema, StaffSchema


class StaffMeSchema(StaffSchema):
    store = fields.Nested(StoreRefSchema)


class StaffLookupSchema(MemberLookupSchema):
    usable_coupons = fields.List(fields.Nested(CouponSchema), metadata={
        "description": "the member's coupons usable in this store now (the order amount aside), soonest "
                       "ending first, at most 20; their codes stay with the member, who shows one to use it"})


class MemberStandingSchema(Schema):
    """The member after the purchase: what the cashier tells them."""

    member_id = fields.Integer(attribute="id")
    points_balance = fields.Integer()
    growth = fields.Integer()
    tier = fields.String(attribute="tier.name")
    tier_level = fields.Integer(attribute="tier.level")


class RecordedPurchaseSchema(PurchaseSchema):
    member = fields.Nested(MemberStandingSchema)


class StorePurchaseArgs(CursorArgs):
    order_no = fields.String(validate=ORDER_NO, metadata={"description": "only the purchase of this order number"})


PurchasePageSchema = page_schema(PurchaseSchema)
VerificationPageSchema = page_schema(VerificationSchema)
