"""Schemas of the layers and segments endpoints."""
from datetime import date, datetime, timezone

from marshmallow import Schema, fields, validate

from app.api.converters import INTEGER_MAX
from app.api.schemas import BUSINESS_DATE, MAX_POINTS, Strict, ZonedDateTime
from app.layers.models import LAYERS

_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=INTEGER_MAX)),
                   validate=validate.Length(min=1, max=50))
_points = validate.Range(min=-MAX_POINTS, max=MAX_POINTS)
# instants an operator may give: far enough from datetime's limits for any arithmetic on them
INSTANT = validate.Range(min=datetime(2000, 1, 1, tzinfo=timezone.utc), max=datetime(2099, 12, 31, tzinfo=timezone.utc))


class JsonDate(fields.Date):
    """A business date kept as its YYYY-MM-DD text: the conditions are stored as JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).isoformat()

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class ConditionsSchema(Strict):
    """Every condition given must hold; none at all is every member (app/layers/segments.py)."""

    layers = fields.List(fields.String(validate=validate.OneOf(list(LAYERS))), validate=validate.Length(min=1, max=5),
                         metadata={"description": "the member's layer in the last RFM run is one of these"})
    tier_ids = _ids
    store_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=INTEGER_MAX)),
                            validate=validate.Length(min=1, max=50),
                            metadata={"description": "the store the member is attributed to (home store)"})
    last_purchase_before_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650), metadata={
        "description": "bought (net of refunds), but not since the start of the business day N days ago"})
    points_min = fields.Integer(strict=True, validate=_points)
    points_max = fields.Integer(strict=True, validate=_points)
    points_expiring_before = JsonDate(validate=lambda day: BUSINESS_DATE(date.fromisoformat(day)), metadata={
        "description": "holds open points expiring from today up to the day before this date"})
    checkin_streak_min = fields.Integer(strict=True, validate=validate.Range(min=1, max=366), metadata={
        "description": "current check-in run (up to today, or yesterday while today is unchecked) ≥ n days"})


class SegmentPreviewArgs(Strict):
    conditions = fields.Nested(ConditionsSchema, required=True)


class SegmentSchema(Strict):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    conditions = fields.Nested(ConditionsSchema, required=True)
    created_by = fields.String(dump_only=True, allow_none=True)
    created_at = ZonedDateTime(dump_only=True)


class SegmentPageSchema(Schema):
    items = fields.List(fields.Nested(SegmentSchema))
    next_cursor = fields.Integer(allow_none=True)


class SegmentCountSchema(Schema):
    members = fields.Integer()


class LayerCountSchema(Schema):
    layer = fields.String()
    name = fields.String()
    members = fields.Integer()


class LayersNowSchema(Schema):
    day = fields.Date(allow_none=True, metadata={"description": "the last RFM run's business day; null before any"})
    layers = fields.List(fields.Nested(LayerCountSchema))


class TrendArgs(Strict):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=366))
    tier_id = fields.Integer(validate=validate.Range(min=1, max=INTEGER_MAX),
                             metadata={"description": "one tier only (churn by tier); all tiers without it"})


class TrendPointSchema(Schema):
    day = fields.Date()
    layer = fields.String()
    tier_id = fields.Integer()
    members = fields.Integer()


class TrendSchema(Schema):
    points = fields.List(fields.Nested(TrendPointSchema),
                         metadata={"description": "members per run day, layer and tier, oldest first"})
