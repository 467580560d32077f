"""The mini-program's API: the member's own card, code, profile and points."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.display import titled
from app.api.idempotency import begin_writes, mutation
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.api.schemas import (
    CardSchema,
    LedgerArgs,
    LedgerPageSchema,
    MemberCodeSchema,
    PhoneBindArgs,
    ProfileArgs,
    ProfileSchema,
    TierSchema,
)
from app.errors import MemberError, WechatError
from app.mall.coupons import USABLE_COUNT
from app.members import service as members
from app.members.card import card_query, card_view
from app.members.code import current_code
from app.members.tiers import all_tiers
from app.points import service as ledger
from app.security import MEMBER

blp = Blueprint("member", __name__, url_prefix="/api/v1/member", description="The member's own data (member token)")
blp.before_request(require(MEMBER))

# The card's figures in one statement, built once: points and tiers with the mall's coupons held.
CARD_QUERY = card_query(coupons_held=USABLE_COUNT)


@blp.route("/card")
@blp.response(200, CardSchema)
def card():
    """The member card: tier and benefits, growth and what the next tier needs, points, coupons held."""
    return card_view(g.principal, CARD_QUERY)


@blp.route("/card/code")
@blp.response(200, MemberCodeSchema)
def member_code():
    """The dynamic code staff scan, as digits and as a QR image of the same step; ask again after
    `expires_in` seconds."""
    return current_code(g.principal)


@blp.route("/profile")
@blp.response(200, ProfileSchema)
def get_profile():
    return g.principal


@blp.route("/profile", methods=["PATCH"])
@blp.errors(MemberError.BIRTHDAY_ALREADY_SET)
@mutation
@blp.arguments(ProfileArgs)
@blp.response(200, ProfileSchema)
def patch_profile(args):
    """Nickname and gender any time; the birthday once (it drives birthday benefits)."""
    return members.update_profile(g.principal, **args)


@blp.route("/phone", methods=["POST"])
@blp.errors(MemberError.PHONE_TAKEN, WechatError.WECHAT_CODE_INVALID, WechatError.WECHAT_UNAVAILABLE,
            WechatError.WECHAT_ERROR)
@mutation(calls_out=True)
@blp.arguments(PhoneBindArgs)
@blp.response(200, ProfileSchema)
def bind_phone(args):
    """Bind the phone number from a `getPhoneNumber` button code."""
    phone = members.phone_number(args["code"])  # WeChat first, outside any transaction
    begin_writes()
    return members.bind_phone(g.principal, phone)


@blp.route("/points/entries")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, LedgerPageSchema)
def ledger_entries(args):
    """The member's own points (or growth) history, newest first."""
    items = ledger.entries_page(g.principal.id, args["account"], args.get("cursor"), args["limit"] + 1)
    return page(titled(items), args["limit"])


@blp.route("/tiers")
@blp.response(200, page_schema(TierSchema))
def tiers():
    """Every tier with its threshold and benefits, lowest first (a short ladder: one page)."""
    return whole(all_tiers())
