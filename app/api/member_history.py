"""The member's own history (member token): purchases with their refunds, tier changes, the open
points lots with their expiry (积分明细, 即将过期)."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.history_schemas import MemberPurchasePageSchema, PointLotPageSchema, TierChangePageSchema
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import CursorArgs
from app.members.tiers import tier_changes_page
from app.points.service import open_lots_page
from app.purchases.service import member_purchases
from app.security import MEMBER

blp = Blueprint("member_history", __name__, url_prefix="/api/v1/member",
                description="The member's purchases, tier changes and points lots (member token)")
blp.before_request(require(MEMBER))


@blp.route("/purchases")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, MemberPurchasePageSchema)
def purchases(args):
    """The caller's purchases, newest first: store, amount, points and growth earned, refunds."""
    return page(member_purchases(g.principal.id, args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/tier-changes")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, TierChangePageSchema)
def tier_changes(args):
    """The caller's tier history, newest first: from, to, why, when."""
    return page(tier_changes_page(g.principal.id, args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/points/lots")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, PointLotPageSchema)
def points_lots(args):
    """The caller's points lots with points left, soonest expiring first; the cursor is the last lot seen."""
    return page(open_lots_page(g.principal.id, args.get("cursor"), args["limit"] + 1), args["limit"])
