"""Schemas of the points mall: items, offers, orders, and the operators' numbers."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.display import tier_name_at
from app.api.mall_schemas import COUNT, NAME, ORDER_NO, CouponDetailSchema, CouponTemplateBriefSchema
from app.api.schemas import BUSINESS_DATE, MAX_POINTS, CursorArgs, Strict, ZonedDateTime, one_of
from app.errors import CATALOGUE
from app.mall.models import (
    AWAITING_SHIPMENT,
    CANCELLED,
    COMPLETED,
    COUPON_ITEM,
    LIMIT_PERIODS,
    PHYSICAL,
    SHIPPED,
    VIRTUAL,
)

# --- items and orders --------------------------------------------------------------------


class ItemSchema(Strict):
    """A mall item. Coupon items name coupon_template_id; stock null = unlimited."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    description = fields.String(load_default="", validate=validate.Length(max=500))
    kind = fields.String(required=True, validate=validate.OneOf([COUPON_ITEM, PHYSICAL, VIRTUAL]))
    coupon_template_id = fields.Integer(strict=True, allow_none=True, validate=COUNT)
    price_points = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_POINTS))
    stock = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10**9))
    per_member_limit = fields.Integer(strict=True, allow_none=True, validate=COUNT)
    limit_period = fields.String(load_default="total", validate=validate.OneOf(LIMIT_PERIODS))
    min_tier_level = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=100))
    sale_starts_at = ZonedDateTime(allow_none=True)
    sale_ends_at = ZonedDateTime(allow_none=True)
    member_day_price_pct = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=100))
    member_day_only = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)
    # the rules across fields (a coupon item's template, the sale window) are app/mall/items.py's


class ItemPatchSchema(ItemSchema):
    """Any field but kind, coupon template and stock (see restocks)."""

    class Meta:
        exclude = ("kind", "coupon_template_id", "stock")

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class RestockArgs(Strict):
    delta = fields.Integer(required=True, strict=True,
                           validate=[validate.Range(min=-10**9, max=10**9), validate.NoneOf([0])])


class ItemPageSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))
    next_cursor = fields.Integer(allow_none=True)


class OfferSchema(Schema):
    """An item as the asking member sees it now: price today, and why not if not redeemable."""

    id = fields.Integer()
    name = fields.String(attribute="item.name")
    description = fields.String(attribute="item.description")
    kind = fields.String(attribute="item.kind")
    coupon = fields.Nested(CouponTemplateBriefSchema, attribute="item.coupon_template", allow_none=True)
    price_points = fields.Integer()
    list_price_points = fields.Integer(attribute="item.price_points")
    member_day = fields.Boolean()
    member_day_only = fields.Boolean(attribute="item.member_day_only")
    stock_left = fields.Integer(allow_none=True)
    per_member_limit = fields.Integer(attribute="item.per_member_limit", allow_none=True)
    limit_period = fields.String(attribute="item.limit_period")
    redeemed_in_period = fields.Integer()
    min_tier_level = fields.Integer(attribute="item.min_tier_level", allow_none=True)
    min_tier_name = fields.Function(lambda offer: tier_name_at(offer.item.min_tier_level), metadata={
        "type": "string", "nullable": True, "description": "the tier it needs (at least), by name", "example": "金卡"})
    sale_starts_at = ZonedDateTime(attribute="item.sale_starts_at", allow_none=True)
    sale_ends_at = ZonedDateTime(attribute="item.sale_ends_at", allow_none=True)
    redeemable = fields.Boolean()
    reason = fields.String(allow_none=True, metadata={"description": "an error code, null when redeemable"})
    reason_text = fields.Function(lambda offer: offer.reason and CATALOGUE[offer.reason][1], metadata={
        "type": "string", "nullable": True, "description": "why not, in Chinese (the code's message)"})


class OfferPageSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema))
    next_cursor = fields.Integer(allow_none=True)


class ShipToSchema(Strict):
    name = fields.String(required=True, validate=NAME)
    phone = fields.String(required=True, validate=[validate.Length(max=20), validate.Regexp(r"^\+?[\d\- ]{5,20}$")])
    address = fields.String(required=True, validate=validate.Length(min=5, max=200))


class RedeemArgs(Strict):
    item_id = fields.Integer(required=True, strict=True, validate=COUNT)
    ship_to = fields.Nested(ShipToSchema, metadata={"description": "required for physical items"})


class OrderSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    item_name = fields.String(attribute="item.name")
    kind = one_of([COUPON_ITEM, PHYSICAL, VIRTUAL], attribute="item.kind")
    points = fields.Integer()
    state = one_of([COMPLETED, AWAITING_SHIPMENT, SHIPPED, CANCELLED])
    coupon = fields.Nested(CouponDetailSchema, allow_none=True)
    ship_to = fields.Dict(allow_none=True)
    carrier = fields.String(allow_none=True)
    tracking_no = fields.String(allow_none=True)
    shipped_at = ZonedDateTime(allow_none=True)
    cancelled_at = ZonedDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = ZonedDateTime()


class AdminOrderSchema(OrderSchema):
    member_id = fields.Integer()
    cancelled_by = fields.String(allow_none=True)


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))
    next_cursor = fields.Integer(allow_none=True)


class AdminOrderPageSchema(Schema):
    items = fields.List(fields.Nested(AdminOrderSchema))
    next_cursor = fields.Integer(allow_none=True)


class AdminOrderArgs(CursorArgs):
    state = fields.String(validate=validate.OneOf([COMPLETED, AWAITING_SHIPMENT, SHIPPED, CANCELLED]))


class ShipmentArgs(Strict):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=32))
    tracking_no = fields.String(required=True, validate=ORDER_NO)


# --- numbers -----------------------------------------------------------------------------


class NumbersArgs(Strict):
    start = fields.Date(data_key="from", required=True, validate=BUSINESS_DATE)
    end = fields.Date(data_key="to", required=True, validate=BUSINESS_DATE)

    @validates_schema
    def ordered(self, data, **kwargs):
        if data["end"] < data["start"] or (data["end"] - data["start"]).days > 366:
            raise ValidationError("must be on or after from, within a year", "to")


class ItemNumbersSchema(Schema):
    item_id = fields.Integer()
    name = fields.String()
    orders = fields.Integer()
    points = fields.Integer(metadata={"description": "points spent, cancelled orders left out"})
    cancelled = fields.Integer()


class SourceNumbersSchema(Schema):
    source = fields.String()
    issued = fields.Integer()


class StoreVerificationNumbersSchema(Schema):
    store_id = fields.Integer()
    name = fields.String()
    verified = fields.Integer()
    undone = fields.Integer()
    discount_fen = fields.Integer()


class StoreMemberNumbersSchema(Schema):
    store_id = fields.Integer()
    name = fields.String()
    members = fields.Integer()


class NumbersSchema(Schema):
    """Counts over the business dates from..to (inclusive)."""

    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    redemptions_by_item = fields.List(fields.Nested(ItemNumbersSchema))
    coupons_issued_by_source = fields.List(fields.Nested(SourceNumbersSchema))
    verifications_by_store = fields.List(fields.Nested(StoreVerificationNumbersSchema))
    home_members_by_store = fields.List(fields.Nested(StoreMemberNumbersSchema))
