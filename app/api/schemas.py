"""Request and reply schemas: they validate input (naming the bad field) and document it."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.accounts import PASSWORD_LENGTH
from app.api.converters import INTEGER_MAX

# Bounds keep every amount inside a BIGINT and inside what a store could sell.
MAX_FEN = 10**10  # 100 million yuan
MAX_POINTS = 10**9
MAX_ID = 2**63 - 1  # the largest BIGINT id: bounds cursors and path ids of BIGINT-keyed tables
# Business dates an operator may give (date arithmetic, a day later or in the business zone, stays far from
# the limits of Python's dates: 9999-12-31 plus one day was a 500).
BUSINESS_DATE = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))

_text = validate.Length(min=1, max=64)


class Strict(Schema):
    """Unknown fields are errors (marshmallow's default), named in the reply."""


class CursorArgs(Strict):
    """A page of a BIGINT-keyed table; the cursor is an id, bounded by its column (PostgreSQL
    refuses to compare a larger parameter with the column: a 500, not an empty page)."""

    cursor = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class IntegerIdCursorArgs(CursorArgs):
    """A page of an INTEGER-keyed table."""

    cursor = fields.Integer(validate=validate.Range(min=1, max=INTEGER_MAX))


class MemberLoginArgs(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))
    invite_code = fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "the inviter's code (scene `i=<code>`); binds only a member this login creates"})


class PasswordLoginArgs(Strict):
    username = fields.String(required=True, validate=_text)
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class TokenReply(Schema):
    token = fields.String()
    audience = fields.String()
    expires_in = fields.Integer()
    member_id = fields.Integer()
    created = fields.Boolean()


class TierSchema(Schema):
    id = fields.Integer(dump_only=True)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    growth_threshold = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10**12))
    points_multiplier_pct = fields.Integer(strict=True, load_default=100, validate=validate.Range(min=0, max=1000))
    # which keys, and their values, the tier service checks (app/members/benefit_keys.py)
    benefits = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "only these keys: discount_pct (1–100), free_shipping, birthday_points (≥ 0), "
                       "checkin_multiplier, and coupon packs to claim monthly_coupons / birthday_coupons / "
                       "upgrade_coupons: [{\"template_id\": an existing template, \"count\": 1–10}]",
        "example": {"discount_pct": 95, "free_shipping": True, "monthly_coupons": [{"template_id": 1, "count": 2}]}})


class TierPatchSchema(TierSchema):
    """Every field optional, no defaults filled in: a PATCH changes only what it names.

    (marshmallow has no `Meta.partial`; partial is a load option of the instance.)
    """

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class NextTierSchema(Schema):
    name = fields.String()
    level = fields.Integer()
    growth_threshold = fields.Integer()
    growth_needed = fields.Integer()


class ExpirySchema(Schema):
    date = fields.String()
    amount = fields.Integer()


class CardPointsSchema(Schema):
    balance = fields.Integer()
    next_expiry = fields.Nested(ExpirySchema, allow_none=True)


class CardSchema(Schema):
    card_no = fields.String()
    member_id = fields.Integer()
    nickname = fields.String(allow_none=True)
    tier = fields.Nested(TierSchema)
    growth = fields.Integer()
    next_tier = fields.Nested(NextTierSchema, allow_none=True)
    points = fields.Nested(CardPointsSchema)
    coupons_count = fields.Integer()


class MemberCodeSchema(Schema):
    code = fields.String()
    expires_in = fields.Integer()


class ProfileArgs(Strict):
    nickname = fields.String(validate=validate.Length(min=1, max=64))
    gender = fields.String(validate=validate.OneOf(["unknown", "male", "female"]))
    birthday = fields.Date()


class ProfileSchema(Schema):
    """The reply: what a member has not given yet is null (and a PATCH cannot set null)."""

    nickname = fields.String(allow_none=True)
    gender = fields.String()
    birthday = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    card_no = fields.String()


class PhoneBindArgs(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class LedgerEntrySchema(Schema):
    id = fields.Integer()
    account = fields.String()
    delta = fields.Integer()
    kind = fields.String()
    ref = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    created_at = fields.DateTime()


class LedgerArgs(CursorArgs):
    account = fields.String(load_default="points", validate=validate.OneOf(["points", "growth"]))


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema))
    next_cursor = fields.Integer(allow_none=True)


class MemberSummarySchema(Schema):
    member_id = fields.Integer(attribute="id")
    card_no = fields.String()
    nickname = fields.String(allow_none=True)
    phone = fields.Method("masked_phone")
    tier = fields.String(attribute="tier.name")
    tier_level = fields.Integer(attribute="tier.level")
    discount_pct = fields.Function(lambda m: m.tier.benefits.get("discount_pct"))
    points_balance = fields.Integer()
    growth = fields.Integer()

    def masked_phone(self, member):
        return member.phone and f"{member.phone[:3]}****{member.phone[-4:]}"


class MemberLookupArgs(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class MemberLookupSchema(MemberSummarySchema):
    lookup_ticket = fields.String(metadata={
        "description": "names this member in this account's purchases for `lookup_ticket_expires_in` seconds"})
    lookup_ticket_expires_in = fields.Integer()


class PurchaseArgs(Strict):
    """The member is named by what only their presence gives: a fresh code, or a recent lookup's ticket."""

    member_code = fields.String(validate=validate.Length(min=1, max=64),
                                metadata={"description": "the member's dynamic code, scanned now"})
    lookup_ticket = fields.String(validate=validate.Length(min=1, max=512),
                                  metadata={"description": "from this account's member lookup"})
    order_no = fields.String(required=True, validate=[_text, validate.Regexp(r"^[\w\-]+$")])
    amount_fen = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_FEN))

    @validates_schema
    def one_member(self, data, **kwargs):
        if ("member_code" in data) == ("lookup_ticket" in data):
            raise ValidationError("give exactly one of member_code and lookup_ticket", "member_code")


class PurchaseSchema(Schema):
    id = fields.Integer()
    store_id = fields.Integer()
    member_id = fields.Integer()
    staff_id = fields.Integer()
    order_no = fields.String()
    amount_fen = fields.Integer()
    refunded_fen = fields.Integer()
    points_earned = fields.Integer()
    growth_earned = fields.Integer()
    created_at = fields.DateTime()


class RefundArgs(Strict):
    refund_no = fields.String(required=True, validate=[_text, validate.Regexp(r"^[\w\-]+$")])
    amount_fen = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_FEN))


class RefundSchema(Schema):
    id = fields.Integer()
    purchase_id = fields.Integer()
    refund_no = fields.String()
    amount_fen = fields.Integer()
    points_reversed = fields.Integer()
    growth_reversed = fields.Integer()
    created_at = fields.DateTime()


class AdjustmentArgs(Strict):
    delta = fields.Integer(required=True, strict=True,
                           validate=[validate.Range(min=-MAX_POINTS, max=MAX_POINTS),
                                     validate.NoneOf([0], error="must not be zero")])
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


class AdminMemberSchema(MemberSummarySchema):
    openid = fields.String()
    birthday = fields.Date(allow_none=True)
    gender = fields.String()
    created_at = fields.DateTime()


class StoreSchema(Strict):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=[validate.Length(min=1, max=32), validate.Regexp(r"^[\w\-]+$")])
    name = fields.String(required=True, validate=_text)


class StaffArgs(Strict):
    username = fields.String(required=True, validate=[_text, validate.Regexp(r"^[\w.\-]+$")])
    password = fields.String(required=True, load_only=True, validate=validate.Length(*PASSWORD_LENGTH))
    name = fields.String(required=True, validate=_text)
    role = fields.String(load_default="clerk", validate=validate.OneOf(["clerk", "manager"]))


class StaffSchema(Schema):
    id = fields.Integer()
    store_id = fields.Integer()
    username = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean(metadata={"description": "false: disabled, cannot log in, its tokens ended"})


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable code, listed in the API description"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "e.g. `fields`: the refused fields; may be empty"})


class ErrorEnvelopeSchema(Schema):
    error = fields.Nested(ErrorSchema, required=True)
