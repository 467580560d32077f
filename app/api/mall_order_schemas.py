"""Schemas of the points mall: categories, items, offers, orders and their addresses, and the
operators' numbers."""
import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from app.api.display import tier_name_at
from app.api.mall_schemas import COUNT, NAME, ORDER_NO, CouponDetailSchema, CouponTemplateBriefSchema
from app.api.schemas import (
    BUSINESS_DATE,
    MAX_POINTS,
    NOT_ZERO,
    CursorArgs,
    IntegerIdCursorArgs,
    Strict,
    ZonedDateTime,
    one_of,
)
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
from app.members.search import mask_phone

# --- categories and items ----------------------------------------------------------------

SORT_ORDER = validate.Range(min=-10_000, max=10_000)


class CategorySchema(Strict):
    """A tab of the mall; members see the tabs in `sort_order` (ascending, then id)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    sort_order = fields.Integer(load_default=0, strict=True, validate=SORT_ORDER)


class CategoryPatchSchema(CategorySchema):
    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class MemberCategorySchema(Schema):
    id = fields.Integer()
    name = fields.String()


IMAGE_URL = fields.URL(schemes={"https"}, allow_none=True, validate=validate.Length(max=500), metadata={
    "description": "https only (the mini-program loads images from its https download domains)",
    "example": "https://img.example.com/mall/mug.jpg"})


class ItemSchema(Strict):
    """A mall item. Coupon items name coupon_template_id; stock null = unlimited."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    description = fields.String(load_default="", validate=validate.Length(max=500))
    image_url = IMAGE_URL
    category_id = fields.Integer(strict=True, allow_none=True, validate=COUNT,
                                 metadata={"description": "a category of /admin/mall-categories; null: none"})
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
                           validate=[validate.Range(min=-10**9, max=10**9), NOT_ZERO])


class ItemPageSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))
    next_cursor = fields.Integer(allow_none=True)


class OfferSchema(Schema):
    """An item as the asking member sees it now: price today, and why not if not redeemable."""

    id = fields.Integer()
    name = fields.String(attribute="item.name")
    description = fields.String(attribute="item.description")
    image_url = fields.String(attribute="item.image_url", allow_none=True)
    category_id = fields.Integer(attribute="item.category_id", allow_none=True)
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
    reason_text = fields.String(allow_none=True, metadata={
        "description": "why not, in Chinese (a redemption's message): 积分不足, 已售罄, 需要金卡等级及以上 …",
        "example": "积分不足"})


class OfferListArgs(IntegerIdCursorArgs):
    category_id = fields.Integer(validate=COUNT, metadata={"description": "only this category's items"})


class OfferPageSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema))
    next_cursor = fields.Integer(allow_none=True)


# wx.chooseAddress gives a mobile number or a landline with its area code (the developer tools' sample
# address has 020-81167888); a mobile is stored as its 11 digits, without +86, spaces or hyphens
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
_PLACE = validate.Length(min=1, max=32)


def _normal_phone(text: str) -> str | None:
    compact = re.sub(r"[\s\u00a0]", "", text)
    if mobile := _MOBILE.fullmatch(compact.replace("-", "")):
        return mobile.group(1)
    return compact if _LANDLINE.fullmatch(compact) else None


def _check_phone(text: str) -> None:
    if _normal_phone(text) is None:
        raise ValidationError("须为 11 位手机号，或带区号的固定电话，如 020-81167888")


class ShipToSchema(Schema):
    """A physical order's address exactly as `wx.chooseAddress` returns it (the reply gives it back the
    same way). Its other keys (errMsg, nationalCode, streetName, detailInfoNew, any WeChat adds later)
    are ignored: detailInfo already holds the street. Text is trimmed; a mobile number is stored as
    its 11 digits, an empty postalCode as null."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(data_key="userName", required=True, validate=_PLACE, metadata={"example": "张三"})
    phone = fields.String(data_key="telNumber", required=True, validate=_check_phone,
                          metadata={"example": "13800138000"})
    province = fields.String(data_key="provinceName", required=True, validate=_PLACE, metadata={"example": "上海市"})
    city = fields.String(data_key="cityName", required=True, validate=_PLACE, metadata={"example": "上海市"})
    district = fields.String(data_key="countyName", load_default="", validate=validate.Length(max=32),
                             metadata={"example": "静安区"})
    detail = fields.String(data_key="detailInfo", required=True, validate=validate.Length(min=1, max=200),
                           metadata={"example": "南京西路1601号"})
    postcode = fields.String(data_key="postalCode", load_default=None, allow_none=True,
                             validate=validate.Regexp(r"^(\d{6})?$"), metadata={"example": "200040"})

    @pre_load
    def trimmed(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        return {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}

    @post_load
    def normalized(self, data, **kwargs):
        return {**data, "phone": _normal_phone(data["phone"]), "postcode": data["postcode"] or None}


class MaskedShipToSchema(ShipToSchema):
    """The address in operators' lists: the phone masked (the order's own page shows it whole)."""

    phone = fields.Function(lambda address: mask_phone(address["phone"]), data_key="telNumber",
                            metadata={"type": "string", "example": "138****8000"})


class RedeemArgs(Strict):
    item_id = fields.Integer(required=True, strict=True, validate=COUNT)
    ship_to = fields.Nested(ShipToSchema, metadata={
        "description": "physical items: the address as wx.chooseAddress gives it (other items ignore it)"})


class OrderSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    item_name = fields.String(attribute="item.name")
    kind = one_of([COUPON_ITEM, PHYSICAL, VIRTUAL], attribute="item.kind")
    points = fields.Integer()
    state = one_of([COMPLETED, AWAITING_SHIPMENT, SHIPPED, CANCELLED])
    coupon = fields.Nested(CouponDetailSchema, allow_none=True)
    ship_to = fields.Nested(ShipToSchema, allow_none=True, metadata={"description": "physical orders only"})
    carrier = fields.String(allow_none=True)
    tracking_no = fields.String(allow_none=True)
    shipped_at = ZonedDateTime(allow_none=True)
    cancelled_at = ZonedDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = ZonedDateTime()


class AdminOrderSchema(OrderSchema):
    member_id = fields.Integer()
    cancelled_by = fields.String(allow_none=True)


class AdminOrderListedSchema(AdminOrderSchema):
    ship_to = fields.Nested(MaskedShipToSchema, allow_none=True, metadata={"description": "the phone masked"})


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))
    next_cursor = fields.Integer(allow_none=True)


class AdminOrderPageSchema(Schema):
    items = fields.List(fields.Nested(AdminOrderListedSchema))
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
            raise ValidationError("不能早于 from，且跨度不超过一年", "to")


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
