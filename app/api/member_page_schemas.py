"""Schemas of the operators' member pages: the search, its CSV export, and the member's lists."""
from marshmallow import Schema, fields, validate

from app.api.converters import INTEGER_MAX
from app.api.engagement_schemas import InvitationSchema
from app.api.pagination import page_schema
from app.api.schemas import IntegerIdCursorArgs, MemberSummarySchema, PurchaseSchema, Strict, ZonedDateTime

_TIER_ID = fields.Integer(validate=validate.Range(min=1, max=INTEGER_MAX), metadata={"description": "only this tier"})
_Q = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": (
    "a phone (11 digits, or its last 4 to 10), a member id, a card number, a dynamic member code, "
    "or a nickname (its beginning; 3 characters or more: any part of it)")})


class MemberSearchArgs(IntegerIdCursorArgs):
    q = _Q
    tier_id = _TIER_ID


class MemberFoundSchema(MemberSummarySchema):
    created_at = ZonedDateTime()


MemberFoundPageSchema = page_schema(MemberFoundSchema)


class MemberExportArgs(Strict):
    q = _Q
    tier_id = _TIER_ID
    phone = fields.String(load_default="masked", validate=validate.OneOf(["masked", "full"]), metadata={
        "description": "masked (138****1234, the default) or full"})


class CheckinSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    kind = fields.String(metadata={"description": "checkin or makeup"})
    points = fields.Integer()
    growth = fields.Integer()
    paid_with = fields.String(allow_none=True)
    created_at = ZonedDateTime()


class AdminInvitationSchema(InvitationSchema):
    invitee_id = fields.Integer()


PurchasePageSchema = page_schema(PurchaseSchema)
CheckinPageSchema = page_schema(CheckinSchema)
AdminInvitationPageSchema = page_schema(AdminInvitationSchema)
