"""Schemas of the mall: coupons, verification, items, orders, store visits and numbers."""
from marshmallow import Schema, fields, validate

from app import clock
from app.api.pagination import page_schema
from app.api.schemas import BUSINESS_DATE, MAX_FEN, CursorArgs, MemberSummarySchema, Strict, ZonedDateTime, one_of
from app.clock import now
from app.mall.codes import grouped
from app.mall.coupons import TABS, VALID, describe, display_state
from app.mall.coupons import days_left as coupon_days_left
from app.mall.models import (
    COUPON_KINDS,
    EXPIRED,
    FROM_BENEFIT,
    FROM_GRANT,
    FROM_REDEMPTION,
    FROM_STORE_CLAIM,
    ISSUED,
    USED,
    VOIDED,
)
from app.mall.points_conversion import SOURCE as FROM_CONVERSION

COUPON_STATES = [ISSUED, USED, EXPIRED, VOIDED]
COUPON_SOURCES = [FROM_REDEMPTION, FROM_BENEFIT, FROM_STORE_CLAIM, FROM_GRANT, FROM_CONVERSION]
SUMMARY = {"type": "string", "description": "the value in words, e.g. 满100减20", "example": "满100减20"}

# Validators shared with app/api/mall_order_schemas.py.
NAME = validate.Length(min=1, max=64)
REASON = validate.Length(min=2, max=200)
COUNT = validate.Range(min=1, max=10**9)
ORDER_NO = [validate.Length(min=1, max=64), validate.Regexp(r"^[\w\-]+$")]

# --- coupons -----------------------------------------------------------------------------


class StoreRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class CouponTemplateSchema(Strict):
    """A coupon template. Value by kind: amount_off and threshold_off need amount_off_fen
    (threshold_off also threshold_fen), percent_off needs percent_off (max_off_fen caps
    it), gift needs gift_name. Validity: valid_from and valid_until (business dates,
    inclusive) or valid_days (counting the day of issue). Empty store_ids: every store."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(required=True, validate=validate.OneOf(COUPON_KINDS))
    summary = fields.Function(describe, dump_only=True, metadata=SUMMARY)
    amount_off_fen = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_FEN))
    percent_off = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=99))
    max_off_fen = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_FEN))
    threshold_fen = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_FEN))
    gift_name = fields.String(allow_none=True, validate=NAME)
    valid_from = fields.Date(allow_none=True, validate=BUSINESS_DATE)
    valid_until = fields.Date(allow_none=True, validate=BUSINESS_DATE)
    valid_days = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=3660))
    total_limit = fields.Integer(strict=True, allow_none=True, validate=COUNT)
    per_member_limit = fields.Integer(strict=True, allow_none=True, validate=COUNT)
    issued_count = fields.Integer(dump_only=True)
    active = fields.Boolean(load_default=True)
    store_ids = fields.List(fields.Integer(strict=True, validate=COUNT), load_default=list,
                            validate=validate.Length(max=500))
    stores = fields.List(fields.Nested(StoreRefSchema), dump_only=True)

    # the rules across fields (what a kind needs, one validity rule) are app/mall/coupons.py's


class CouponTemplateBriefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = one_of(COUPON_KINDS)
    summary = fields.Function(describe, metadata=SUMMARY)
    threshold_fen = fields.Integer()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    valid_days = fields.Integer(allow_none=True)
    stores = fields.List(fields.Nested(StoreRefSchema))


class TemplatePatchSchema(Strict):
    name = fields.String(validate=NAME)
    active = fields.Boolean()


class CouponSchema(Schema):
    """A member's coupon; `state` reads "expired" as soon as its end has passed."""

    id = fields.Integer()
    template_id = fields.Integer()
    name = fields.String(attribute="template.name")
    kind = one_of(COUPON_KINDS, attribute="template.kind")
    summary = fields.Function(lambda coupon: describe(coupon.template), metadata=SUMMARY)
    amount_off_fen = fields.Integer(attribute="template.amount_off_fen", allow_none=True)
    percent_off = fields.Integer(attribute="template.percent_off", allow_none=True)
    max_off_fen = fields.Integer(attribute="template.max_off_fen", allow_none=True)
    threshold_fen = fields.Integer(attribute="template.threshold_fen")
    gift_name = fields.String(attribute="template.gift_name", allow_none=True)
    stores = fields.List(fields.Nested(StoreRefSchema), attribute="template.stores")
    state = fields.Function(lambda coupon: display_state(coupon, now()), validate=validate.OneOf(COUPON_STATES),
                            metadata={"type": "string"})
    valid_from = ZonedDateTime()
    valid_until = ZonedDateTime(metadata={"description": "its end, exclusive: the midnight after `last_day`"})
    first_day = fields.Function(lambda coupon: clock.local_date(coupon.valid_from).isoformat(), metadata={
        "type": "string", "format": "date", "description": "the first business day it can be used"})
    last_day = fields.Function(lambda coupon: clock.last_day(coupon.valid_until).isoformat(), metadata={
        "type": "string", "format": "date", "description": "the last business day it can be used (included)"})
    days_left = fields.Function(lambda coupon: coupon_days_left(coupon, now()), metadata={
        "type": "integer", "nullable": True,
        "description": "days after today it can be used, 0 on its last day; null once used, expired or voided"})
    source = one_of(COUPON_SOURCES)
    issued_at = ZonedDateTime()


class CouponDetailSchema(CouponSchema):
    """With the code: what the member shows in a store (also as a QR image)."""

    code = fields.String()
    code_grouped = fields.Function(lambda coupon: grouped(coupon.code),
                                   metadata={"type": "string", "example": "ABCD-EFGH-JKMN-P"})


class CouponEventSchema(Schema):
    from_state = one_of(COUPON_STATES, allow_none=True)
    to_state = one_of(COUPON_STATES)
    actor = fields.String()
    store_id = fields.Integer(allow_none=True)
    ref = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = ZonedDateTime()


class AdminCouponSchema(CouponDetailSchema):
    member_id = fields.Integer()
    source_ref = fields.String(allow_none=True)
    history = fields.List(fields.Nested(CouponEventSchema))


class CouponListArgs(CursorArgs):
    status = fields.String(load_default=VALID, validate=validate.OneOf(TABS))


CouponPageSchema = page_schema(CouponSchema)


class GrantArgs(Strict):
    member_id = fields.Integer(required=True, strict=True, validate=COUNT)
    reason = fields.String(required=True, validate=REASON)


class ReasonArgs(Strict):
    reason = fields.String(required=True, validate=REASON)


class OptionalReasonArgs(Strict):
    reason = fields.String(validate=REASON)


# --- verification ------------------------------------------------------------------------


class CodeArgs(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class VerifyArgs(CodeArgs):
    order_no = fields.String(required=True, validate=ORDER_NO)
    amount_fen = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_FEN),
                                metadata={"description": "the order's amount, as a purchase's amount_fen"})


class OwnerSchema(MemberSummarySchema):
    """Enough for the clerk to recognise the customer, no more."""

    class Meta:
        fields = ("nickname", "phone", "tier")

    nickname = fields.Function(lambda member: member.nickname and f"{member.nickname[0]}**",
                               metadata={"type": "string", "nullable": True, "example": "张**"})


class RefusalSchema(Schema):
    code = fields.String()
    message = fields.String()
    details = fields.Dict()


class PreviewSchema(Schema):
    coupon = fields.Nested(CouponSchema)
    owner = fields.Nested(OwnerSchema)
    usable = fields.Boolean(metadata={"description": "usable in the caller's store now (threshold aside)"})
    refusal = fields.Nested(RefusalSchema, attribute="reason", allow_none=True)


class VerificationSchema(Schema):
    id = fields.Integer()
    coupon_id = fields.Integer()
    store_id = fields.Integer()
    staff_id = fields.Integer()
    order_no = fields.String()
    amount_fen = fields.Integer(attribute="order_amount_fen")
    discount_fen = fields.Integer()
    verified_at = ZonedDateTime()
    undone_at = ZonedDateTime(allow_none=True)
    undo_reason = fields.String(allow_none=True)


# --- stores ------------------------------------------------------------------------------


class VisitArgs(Strict):
    scene = fields.String(required=True, validate=validate.Length(min=1, max=32))


class StoreOfferSchema(Schema):
    template = fields.Nested(CouponTemplateBriefSchema)
    available = fields.Boolean()


class VisitSchema(Schema):
    store = fields.Nested(StoreRefSchema)
    home_store_id = fields.Integer()
    offers = fields.List(fields.Nested(StoreOfferSchema))


class TemplateRefArgs(Strict):
    template_id = fields.Integer(required=True, strict=True, validate=COUNT)
