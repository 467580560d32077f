"""Schemas of the member's own history: purchases with their refunds, tier changes, open points lots."""
from marshmallow import Schema, fields

from app.api.display import kind_title
from app.api.mall_schemas import StoreRefSchema
from app.api.pagination import page_schema
from app.api.schemas import PurchaseSchema, RefundSchema, ZonedDateTime


class MemberRefundSchema(RefundSchema):
    class Meta:
        exclude = ("purchase_id",)


class MemberPurchaseSchema(PurchaseSchema):
    """A purchase as its member sees it: the store by name, what it earned, what refunds took back."""

    class Meta:
        exclude = ("staff_id", "member_id", "store_id")

    store = fields.Nested(StoreRefSchema)
    refunds = fields.List(fields.Nested(MemberRefundSchema))


class TierRefSchema(Schema):
    level = fields.Integer()
    name = fields.String()


class TierChangeSchema(Schema):
    id = fields.Integer()
    from_tier = fields.Nested(TierRefSchema, allow_none=True, metadata={"description": "null: the first tier"})
    to_tier = fields.Nested(TierRefSchema)
    reason = fields.String(metadata={"description": "the code: the ledger kind that moved the growth, or tier_review"})
    reason_text = fields.Function(lambda change: kind_title(change.reason), metadata={"type": "string",
                                                                                     "example": "门店消费"})
    created_at = ZonedDateTime()


class PointLotSchema(Schema):
    id = fields.Integer()
    amount = fields.Integer(metadata={"description": "points the credit gave"})
    remaining = fields.Integer(metadata={"description": "points left to spend"})
    expires_on = fields.Date(metadata={"description": "the last business day the points can be spent"})


MemberPurchasePageSchema = page_schema(MemberPurchaseSchema)
TierChangePageSchema = page_schema(TierChangeSchema)
PointLotPageSchema = page_schema(PointLotSchema)
