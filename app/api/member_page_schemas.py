"""Schemas of the operators' member pages: the search, its CSV export, and the member's lists."""
from marshmallow import Schema, fields, validate

from app.api.converters import INTEGER_MAX
from app.api.engagement_schemas import InvitationSchema
from app.api.mall_schemas import CouponSchema
from app.api.schemas import IntegerIdCursorArgs, MemberSummarySchema, PurchaseSchema, Strict

_TIER_ID = fields.Integer(validate=validate.Range(min=1, max=INTEGER_MAX), metadata={"description": "only this tier"})
_Q = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": (
    "a phone (11 digits, or its last 4 to 10), a member id, a card number, a dynamic member code, "
    "or a nickname (its beginning; 3 characters or more: any part of it)")})


class MemberSearchArgs(IntegerIdCursorArgs):
    q = _Q
    tier_id = _TIER_ID


class MemberFoundSchema(MemberSummarySchema):
    created_at = fields.DateTime()


class MemberFoundPageSchema(Schema):
    items = fields.List(fields.Nested(MemberFoundSchema))
    next_cursor = fields.Integer(allow_none=True)


class MemberExportArgs(Strict):
    q = _Q
    tier_id = _TIER_ID
    phone = fields.String(load_default="masked", validate=validate.OneOf(["masked", "full"]), metadata={
        "description": "masked (138****1234, the default) or full"})


class TierChangeSchema(Schema):
    id = fields.Integer()
    from_tier = fields.String(attribute="from_tier.name", allow_none=True)
    to_tier = fields.String(attribute="to_tier.name")
    reason = fields.String(metadata={"description": "what moved it: purchase, refund, review, ..."})
    ref = fields.String(allow_none=True)
    created_at = fields.DateTime()


class LotSchema(Schema):
    id = fields.Integer()
    amount = fields.Integer(metadata={"description": "points the credit opened"})
    remaining = fields.Integer()
    expires_on = fields.Date(metadata={"description": "the last business day it can be spent"})


class CheckinSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    kind = fields.String(metadata={"description": "checkin or makeup"})
    points = fields.Integer()
    growth = fields.Integer()
    paid_with = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AdminInvitationSchema(InvitationSchema):
    invitee_id = fields.Integer()


def _page_of(name: str, item_schema) -> type[Schema]:
    """A page, {items, next_cursor}, of `item_schema`, named `name` in the OpenAPI document."""
    return type(name, (Schema,), {"items": fields.List(fields.Nested(item_schema)),
                                  "next_cursor": fields.Integer(allow_none=True)})


TierChangePageSchema = _page_of("TierChangePageSchema", TierChangeSchema)
LotPageSchema = _page_of("LotPageSchema", LotSchema)
MemberCouponPageSchema = _page_of("MemberCouponPageSchema", CouponSchema)
PurchasePageSchema = _page_of("PurchasePageSchema", PurchaseSchema)
CheckinPageSchema = _page_of("CheckinPageSchema", CheckinSchema)
AdminInvitationPageSchema = _page_of("AdminInvitationPageSchema", AdminInvitationSchema)
