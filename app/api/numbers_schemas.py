"""Schemas of the dashboard and tier numbers (app/numbers), and their CSV tables."""
from marshmallow import Schema, fields, validate

from app.api.schemas import Strict
from app.numbers.periods import PRESETS

DASHBOARD_TABLES = ("kpis", "by_tier", "by_store", "series")  # app/api/numbers_csv.py
TIER_TABLES = ("pyramid", "flow", "series")


class PresetArgs(Strict):
    preset = fields.String(load_default="30d", validate=validate.OneOf(PRESETS),
                           metadata={"description": "7d / 30d / 90d: the days ending today; ytd: the year so far"})


class DashboardCsvArgs(PresetArgs):
    table = fields.String(load_default="kpis", validate=validate.OneOf(DASHBOARD_TABLES))


class TierCsvArgs(PresetArgs):
    table = fields.String(load_default="pyramid", validate=validate.OneOf(TIER_TABLES))


class CountKpiSchema(Schema):
    """A count or an amount in the period, against the previous period (null: not comparable)."""

    value = fields.Integer()
    previous = fields.Integer(allow_none=True)
    change = fields.Integer(allow_none=True)
    change_pct = fields.Float(allow_none=True, metadata={"description": "change / previous"})


class RateKpiSchema(Schema):
    """A rate (0..1; null when its denominator is 0), against the previous period."""

    value = fields.Float(allow_none=True)
    previous = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True, metadata={"description": "value - previous"})


COUNT_KPIS = ("members_total", "members_new", "members_active_30d", "purchases", "spend_fen", "refunded_fen",
              "average_order_fen", "points_issued", "points_spent", "points_expired", "points_outstanding",
              "points_outstanding_value_fen", "points_expiring_30d", "points_expiring_90d")
RATE_KPIS = ("repeat_purchase_rate", "redemption_rate", "breakage_rate", "checkin_rate", "benefit_claim_rate",
             "coupon_use_rate")
KpisSchema = Schema.from_dict({**{name: fields.Nested(CountKpiSchema) for name in COUNT_KPIS},
                               **{name: fields.Nested(RateKpiSchema) for name in RATE_KPIS}}, name="KpisSchema")


class DashboardTierSchema(Schema):
    tier_id = fields.Integer()
    level = fields.Integer()
    name = fields.String()
    members = fields.Integer()
    purchases = fields.Integer()
    spend_fen = fields.Integer()
    average_order_fen = fields.Integer()
    purchasers = fields.Integer()
    repeat_purchasers = fields.Integer()
    repeat_purchase_rate = fields.Float(allow_none=True)


class DashboardStoreSchema(Schema):
    store_id = fields.Integer(allow_none=True, metadata={"description": "null: members attributed to no store"})
    code = fields.String(allow_none=True)
    name = fields.String()
    members = fields.Integer(metadata={"description": "attributed to the store, now"})
    new_members = fields.Integer()
    purchases = fields.Integer()
    spend_fen = fields.Integer()
    verifications = fields.Integer()


class DashboardDaySchema(Schema):
    day = fields.Date()
    new_members = fields.Integer()
    purchases = fields.Integer()
    spend_fen = fields.Integer()
    refunded_fen = fields.Integer()
    checkins = fields.Integer()
    coupons_issued = fields.Integer()
    verifications = fields.Integer()
    points_issued = fields.Integer()
    points_spent = fields.Integer()
    points_expired = fields.Integer()


class PeriodFields(Schema):
    preset = fields.String()
    first = fields.Date()
    last = fields.Date()
    snapshot_day = fields.Date(allow_none=True, metadata={"description": "the end-of-day snapshot read (yesterday)"})


class DashboardSchema(PeriodFields):
    previous_first = fields.Date()
    previous_last = fields.Date()
    kpis = fields.Nested(KpisSchema)
    by_tier = fields.List(fields.Nested(DashboardTierSchema))
    by_store = fields.List(fields.Nested(DashboardStoreSchema))
    series = fields.List(fields.Nested(DashboardDaySchema))


class PyramidTierSchema(Schema):
    tier_id = fields.Integer()
    level = fields.Integer()
    name = fields.String()
    members = fields.Integer()
    member_share = fields.Float(allow_none=True)
    spend_fen = fields.Integer()
    spend_share = fields.Float(allow_none=True)
    upgraded_in = fields.Integer()
    downgraded_in = fields.Integer()
    upgraded_out = fields.Integer()
    downgraded_out = fields.Integer(metadata={"description": "members the tier lost to a lower one (churn)"})


class TierFlowSchema(Schema):
    from_tier_id = fields.Integer()
    from_name = fields.String()
    to_tier_id = fields.Integer()
    to_name = fields.String()
    direction = fields.String(validate=validate.OneOf(("up", "down")))
    members = fields.Integer()


class TierDaySchema(Schema):
    day = fields.Date()
    upgrades = fields.Integer()
    downgrades = fields.Integer()


class TierNumbersSchema(PeriodFields):
    pyramid = fields.List(fields.Nested(PyramidTierSchema))
    flow = fields.List(fields.Nested(TierFlowSchema))
    series = fields.List(fields.Nested(TierDaySchema))
