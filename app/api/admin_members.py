"""Operators: find members, export a filtered list, and what a member's page shows.

The member's page reads: GET /members/{id} (profile), /card (tier, growth, points), and one
list per kind of history, each newest first, {items, next_cursor}. Points are adjusted by
POST /members/{id}/points-adjustments (app/api/admin.py), the one path.
"""
from flask import Response

from app.api.blueprint import Blueprint
from app.api.history_schemas import PointLotPageSchema, TierChangePageSchema
from app.api.mall_order_schemas import AdminOrderPageSchema
from app.api.mall_schemas import CouponPageSchema
from app.api.member import CARD_QUERY
from app.api.member_page_schemas import (
    AdminInvitationPageSchema,
    CheckinPageSchema,
    MemberExportArgs,
    MemberFoundPageSchema,
    MemberSearchArgs,
    PurchasePageSchema,
)
from app.api.messaging_schemas import MessagePageSchema
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import CardSchema, CursorArgs
from app.engagement import checkin, referral
from app.errors import MemberError
from app.mall import coupons, redemption
from app.members import search, tiers
from app.members import service as members
from app.members.card import card_view
from app.messaging.service import messages_page
from app.points import service as ledger
from app.purchases import service as purchases
from app.security import ADMIN

blp = Blueprint("admin_members", __name__, url_prefix="/api/v1/admin",
                description="Members for operators: search, CSV export, a member's history (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/members")
@blp.arguments(MemberSearchArgs, location="query")
@blp.response(200, MemberFoundPageSchema)
def search_members(args):
    """Members newest first, those `q` names (every member without it); phones masked."""
    found = search.search(args.get("q"), args.get("tier_id"), args.get("cursor"), args["limit"] + 1)
    return page(found, args["limit"])


@blp.route("/members/export.csv")
@blp.arguments(MemberExportArgs, location="query")
@blp.response(200, description="The filtered list as CSV (UTF-8 with a BOM), newest first, streamed",
              content_type="text/csv")
def export_members(args):
    lines = search.export_csv(args.get("q"), args.get("tier_id"), full_phone=args["phone"] == "full")
    return Response(lines, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="members.csv"'})


@blp.route("/members/<int:member_id>/card")
@blp.errors(MemberError.MEMBER_NOT_FOUND)
@blp.response(200, CardSchema)
def member_card(member_id):
    """The card as the member sees it: tier and benefits, growth and the next tier, points, coupons held."""
    return card_view(members.get_member(member_id), CARD_QUERY)


def _member_list(path: str, schema, pages, doc: str) -> None:
    """GET /members/{id}/<path>: the member's `pages(member_id, cursor, limit)`, {items, next_cursor}."""

    def view(args, member_id):
        members.get_member(member_id)  # MEMBER_NOT_FOUND rather than an empty list
        return page(pages(member_id, args.get("cursor"), args["limit"] + 1), args["limit"])

    view.__name__ = "member_" + path.replace("/", "_").replace("-", "_")
    view.__doc__ = doc
    blp.route(f"/members/<int:member_id>/{path}")(blp.errors(MemberError.MEMBER_NOT_FOUND)(
        blp.arguments(CursorArgs, location="query")(blp.response(200, schema)(view))))


_member_list("tier-changes", TierChangePageSchema, tiers.tier_changes_page, "Tier history: from, to, why, when.")
_member_list("points/lots", PointLotPageSchema, ledger.open_lots_page, "Usable lots, soonest expiring first.")
_member_list("coupons", CouponPageSchema, coupons.coupons_page, "Every coupon issued to the member, any state.")
_member_list("mall-orders", AdminOrderPageSchema,
             lambda member_id, cursor, limit: redemption.orders_page(cursor, limit, member_id=member_id),
             "Points-mall orders.")
_member_list("purchases", PurchasePageSchema, purchases.purchases_page, "Purchases in every store, with refunds.")
_member_list("checkins", CheckinPageSchema, checkin.checkins_page, "Check-ins and makeups.")
_member_list("referrals", AdminInvitationPageSchema, referral.invitations_page,
             "Members this member invited, and what came of each.")
_member_list("messages", MessagePageSchema,
             lambda member_id, cursor, limit: messages_page(None, member_id, cursor, limit),
             "Subscribe messages to the member: status, attempts, times.")
