"""Request and reply schemas: they validate input (naming the bad field) and document it."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from marshmallow.utils import get_value

from app.accounts import PASSWORD_LENGTH
from app.api.converters import INTEGER_MAX
from app.api.display import benefit_labels
from app.api.images import qr_data_url
from app.clock import local_time
from app.layers.models import LAYERS
from app.layers.rfm import layer_of
from app.members.search import mask_phone
from app.points.models import GROWTH, POINTS
from app.security import AUDIENCES
from app.stores.models import CLERK, MANAGER

# Bounds keep every amount inside a BIGINT and inside what a store could sell.
MAX_FEN = 10**10  # 100 million yuan
MAX_POINTS = 10**9
MAX_ID = 2**63 - 1  # the largest BIGINT id: bounds cursors and path ids of BIGINT-keyed tables
# Business dates an operator may give (date arithmetic, a day later or in the business zone, stays far from
# the limits of Python's dates: 9999-12-31 plus one day was a 500).
BUSINESS_DATE = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))

_text = validate.Length(min=1, max=64)


class ZonedDateTime(fields.AwareDateTime):
    """Every time of the API, in one type: a reply shows it in the business zone's offset
    ("2026-12-02T18:00:00+08:00"), an input may carry any offset (one without is refused)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(value and local_time(value), attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        """Within the business dates: in year 477 the zone's offset was +08:05:43, which no
        RFC 3339 time can write back."""
        instant = super()._deserialize(value, attr, data, **kwargs)
        BUSINESS_DATE(instant.date())
        return instant


class Strict(Schema):
    """Unknown fields are errors (marshmallow's default), named in the reply."""


def one_of(values, **kwargs) -> fields.String:
    """A reply's string field with its values listed (an enum in the document; a dump never validates)."""
    return fields.String(validate=validate.OneOf(values), **kwargs)


GENDERS = ["unknown", "male", "female"]


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
    audience = one_of(AUDIENCES)
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
    # a tier row, or the card's tier (a mapping)
    benefit_labels = fields.Function(lambda tier: benefit_labels(get_value(tier, "benefits") or {},
                                                                 get_value(tier, "points_multiplier_pct")),
                                     dump_only=True, metadata={
        "type": "array", "items": {"type": "string"}, "description": "what the tier gives, in Chinese",
        "example": ["95折", "消费积分1.5倍", "包邮"]})


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
    """The code and its QR image of the same time step, so that the two never disagree."""

    code = fields.String(metadata={"example": "660000000001123456"})
    image = fields.Function(lambda code: qr_data_url(code.code), metadata={
        "type": "string", "description": "the code as a QR image, a PNG data URL (`<image src>` shows it as is)",
        "example": "data:image/png;base64,iVBORw0KGgo..."})
    expires_at = ZonedDateTime(metadata={"description": "when the phone shows the next code (staff accept this "
                                                        "one for one step more)"})
    expires_in = fields.Integer(metadata={"description": "seconds until `expires_at`: ask again then (by the "
                                                         "phone's own timer, whatever its clock says)"})


class ProfileArgs(Strict):
    nickname = fields.String(validate=validate.Length(min=1, max=64))
    gender = fields.String(validate=validate.OneOf(GENDERS))
    birthday = fields.Date()


class ProfileSchema(Schema):
    """The reply: what a member has not given yet is null (and a PATCH cannot set null)."""

    nickname = fields.String(allow_none=True)
    gender = one_of(GENDERS)
    birthday = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    card_no = fields.String()


class PhoneBindArgs(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class LedgerEntrySchema(Schema):
    id = fields.Integer()
    title = fields.String(metadata={"description": "what the entry was, in Chinese (e.g. 门店消费 · 静安店)"})
    account = one_of([POINTS, GROWTH])
    delta = fields.Integer()
    kind = fields.String()
    ref = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    created_at = ZonedDateTime()


class LedgerArgs(CursorArgs):
    account = fields.String(load_default=POINTS, validate=validate.OneOf([POINTS, GROWTH]))


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema))
    next_cursor = fields.Integer(allow_none=True)


class MemberSummarySchema(Schema):
    member_id = fields.Integer(attribute="id")
    card_no = fields.String()
    nickname = fields.String(allow_none=True)
    phone = fields.Function(lambda member: mask_phone(member.phone),
                            metadata={"type": "string", "nullable": True, "example": "138****8000"})
    tier = fields.String(attribute="tier.name")
    tier_level = fields.Integer(attribute="tier.level")
    discount_pct = fields.Function(lambda m: m.tier.benefits.get("discount_pct"),
                                   metadata={"type": "integer", "nullable": True})
    points_balance = fields.Integer()
    growth = fields.Integer()


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
            raise ValidationError("member_code 和 lookup_ticket 须且只能填写一项", "member_code")


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
    created_at = ZonedDateTime()


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
    created_at = ZonedDateTime()


NOT_ZERO = validate.NoneOf([0], error="不能为 0")  # a change of nothing (points, stock)


class AdjustmentArgs(Strict):
    delta = fields.Integer(required=True, strict=True,
                           validate=[validate.Range(min=-MAX_POINTS, max=MAX_POINTS), NOT_ZERO])
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


class MemberLayerSchema(Schema):
    layer = fields.String()
    name = fields.Function(lambda row: LAYERS[row.layer], metadata={"type": "string"})
    since = fields.Date()
    previous_layer = fields.String(allow_none=True)
    r_score = fields.Integer(allow_none=True)
    f_score = fields.Integer(allow_none=True)
    m_score = fields.Integer(allow_none=True)
    frequency = fields.Integer()
    monetary_fen = fields.Integer()
    last_purchase_at = ZonedDateTime(allow_none=True)


class _LayerOf(fields.Nested):
    """The member's row of the last RFM run (none before their first)."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return layer_of(obj.id)


class AdminMemberSchema(MemberSummarySchema):
    openid = fields.String()
    birthday = fields.Date(allow_none=True)
    gender = one_of(GENDERS)
    created_at = ZonedDateTime()
    layer = _LayerOf(MemberLayerSchema, allow_none=True, metadata={"description": "RFM layer and scores"})


class StrictFloat(fields.Float):
    """A JSON number only: marshmallow's Float also takes "1.5" and true, as Integer(strict=True) does not."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._validated(value)


class StoreSchema(Strict):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=[validate.Length(min=1, max=32), validate.Regexp(r"^[\w\-]+$")])
    name = fields.String(required=True, validate=_text)
    address = fields.String(allow_none=True, validate=validate.Length(min=1, max=200),
                            metadata={"example": "上海市静安区南京西路1601号"})
    opening_hours = fields.String(allow_none=True, validate=validate.Length(min=1, max=64),
                                  metadata={"example": "10:00-22:00"})
    latitude = StrictFloat(allow_none=True, validate=validate.Range(min=-90, max=90),
                            metadata={"description": "GCJ-02, as wx.getLocation gives it", "example": 31.2243})
    longitude = StrictFloat(allow_none=True, validate=validate.Range(min=-180, max=180),
                             metadata={"description": "GCJ-02", "example": 121.4456})


class StorePatchSchema(StoreSchema):
    """Any field but the code (printed on the store's mini-program code); only what it names changes."""

    class Meta:
        exclude = ("code",)

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class StaffArgs(Strict):
    username = fields.String(required=True, validate=[_text, validate.Regexp(r"^[\w.\-]+$")])
    password = fields.String(required=True, load_only=True, validate=validate.Length(*PASSWORD_LENGTH))
    name = fields.String(required=True, validate=_text)
    role = fields.String(load_default=CLERK, validate=validate.OneOf([CLERK, MANAGER]))


class StaffSchema(Schema):
    id = fields.Integer()
    store_id = fields.Integer()
    username = fields.String()
    name = fields.String()
    role = one_of([CLERK, MANAGER])
    active = fields.Boolean(metadata={"description": "false: disabled, cannot log in, its tokens ended"})


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable code, listed in the API description"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "e.g. `fields`: the refused fields; may be empty"})


class ErrorEnvelopeSchema(Schema):
    error = fields.Nested(ErrorSchema, required=True)
