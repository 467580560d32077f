"""Schemas of the campaign endpoints."""
from marshmallow import Schema, fields, validate

from app.api.converters import INTEGER_MAX
from app.api.layer_schemas import INSTANT
from app.api.schemas import Strict, ZonedDateTime

_id = validate.Range(min=1, max=INTEGER_MAX)


class CampaignSchema(Strict):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    segment_id = fields.Integer(required=True, strict=True, validate=_id)
    coupon_template_id = fields.Integer(strict=True, allow_none=True, load_default=None, validate=_id,
                                        metadata={"description": "a coupon of this template to each member reached"})
    points = fields.Integer(strict=True, allow_none=True, load_default=None,
                            validate=validate.Range(min=1, max=100_000))
    send_message = fields.Boolean(load_default=False, metadata={
        "description": "a campaign_reached subscribe message through the outbox (its rule and the member's quota)"})
    recall = fields.Boolean(load_default=False, metadata={
        "description": "a churn-recall campaign: its members are those who move into 流失预警 (and match the "
                       "segment) while PUT /churn-recall names it; launching it assigns nobody at once"})
    starts_at = ZonedDateTime(required=True, validate=INSTANT)
    holdout_pct = fields.Integer(strict=True, load_default=10, validate=validate.Range(min=0, max=50), metadata={
        "description": "share of the segment kept out, fixed per member and campaign at random"})
    response_days = fields.Integer(strict=True, load_default=14, validate=validate.Range(min=1, max=90), metadata={
        "description": "purchases within this many days of assignment count as a response"})
    created_by = fields.String(dump_only=True, allow_none=True)
    created_at = ZonedDateTime(dump_only=True)
    launched_at = ZonedDateTime(dump_only=True, allow_none=True)
    launched_by = fields.String(dump_only=True, allow_none=True)
    assigned_at = ZonedDateTime(dump_only=True, allow_none=True,
                                  metadata={"description": "when every member of the segment had been assigned"})


class CampaignPageSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema))
    next_cursor = fields.Integer(allow_none=True)


class SampleMemberSchema(Schema):
    member_id = fields.Integer()
    nickname = fields.String(allow_none=True)
    tier_id = fields.Integer()
    layer = fields.String(allow_none=True)
    holdout = fields.Boolean()


class CampaignPreviewSchema(Schema):
    members = fields.Integer(metadata={"description": "members of the segment now"})
    target = fields.Integer(metadata={"description": "of them, in the campaign group"})
    holdout = fields.Integer(metadata={"description": "of them, held out"})
    sample = fields.List(fields.Nested(SampleMemberSchema), metadata={"description": "dry run only: a random few"})


class GroupSchema(Schema):
    members = fields.Integer()
    buyers = fields.Integer(metadata={"description": "members with a purchase within their response window"})
    spend_fen = fields.Integer()
    purchase_rate = fields.Float(allow_none=True)
    spend_per_member_fen = fields.Integer(allow_none=True)


class UpliftSchema(Schema):
    purchase_rate = fields.Float(allow_none=True, metadata={"description": "campaign − holdout, as a share"})
    purchase_rate_relative = fields.Float(allow_none=True, metadata={"description": "that over the holdout's rate"})
    spend_per_member_fen = fields.Float(allow_none=True)
    spend_per_member_relative = fields.Float(allow_none=True)


class CampaignResultsSchema(Schema):
    campaign_id = fields.Integer()
    reached = fields.Integer()
    coupons_issued = fields.Integer()
    coupons_used = fields.Integer()
    messages = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"description": "the campaign's messages by status (sent, skipped, failed, …)"})
    campaign_group = fields.Nested(GroupSchema)
    holdout_group = fields.Nested(GroupSchema)
    uplift = fields.Nested(UpliftSchema)
    window_ends_at = ZonedDateTime(allow_none=True)
    final = fields.Boolean(metadata={"description": "every response window has closed"})


class RecallSettingSchema(Strict):
    campaign_id = fields.Integer(strict=True, allow_none=True, required=True, validate=_id)
    enabled = fields.Boolean(required=True)
    updated_by = fields.String(dump_only=True, allow_none=True)
    updated_at = ZonedDateTime(dump_only=True)
