"""Store staff: who is logged in, look members up by their dynamic code, record purchases and refunds."""
from flask import current_app, g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.limits import failed_attempts_limit
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import (
    MemberLookupArgs,
    PurchaseArgs,
    PurchaseSchema,
    RefundArgs,
    RefundSchema,
)
from app.api.staff_schemas import (
    PurchasePageSchema,
    RecordedPurchaseSchema,
    StaffLookupSchema,
    StaffMeSchema,
    StorePurchaseArgs,
)
from app.errors import AuthError, MemberError, PointsError, RequestError
from app.mall.verification import usable_here
from app.member_row import Member
from app.members.code import resolve_code
from app.members.lookup_ticket import issue_ticket, member_id_of
from app.purchases import service as purchases
from app.security import STAFF

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff", description="Store staff (staff token)")
blp.before_request(require(STAFF))

failed_member_codes = failed_attempts_limit("MEMBER_CODE_LOOKUP_FAILURES", "member-code-failures")


def _member_by_code(code: str) -> Member:
    """Every path that resolves a member code goes through here: guessing is limited on all of them."""
    with failed_member_codes():
        return resolve_code(code)


class _LookedUp:
    """A member as a lookup shows them: the summary's fields, the ticket for a purchase and the
    coupons usable in this store."""

    def __init__(self, member: Member, ticket: str, usable_coupons: list):
        self.member, self.lookup_ticket, self.usable_coupons = member, ticket, usable_coupons
        self.lookup_ticket_expires_in = current_app.config["MEMBER_LOOKUP_TICKET_TTL"]

    def __getattr__(self, name):  # the summary's fields are the member's
        return getattr(self.member, name)


@blp.route("/me")
@blp.response(200, StaffMeSchema)
def me():
    """The logged-in staff account: name, role and store."""
    return g.principal


@blp.route("/member-lookups", methods=["POST"])
@blp.errors(RequestError.RATE_LIMITED, MemberError.MEMBER_CODE_EXPIRED, MemberError.MEMBER_CODE_INVALID,
            MemberError.MEMBER_CODE_FOREIGN)
@blp.arguments(MemberLookupArgs)
@blp.response(200, StaffLookupSchema)
def lookup_member(args):
    """Scan a member's dynamic code: who they are, their tier, discount and points, the coupons
    usable here, and a ticket that names them in this account's purchases for a few minutes."""
    member = _member_by_code(args["code"])
    return _LookedUp(member, issue_ticket(member, g.principal), usable_here(member.id, g.principal.store_id))


@blp.route("/purchases", methods=["POST"])
@blp.errors(RequestError.RATE_LIMITED, MemberError.MEMBER_NOT_FOUND, MemberError.MEMBER_CODE_EXPIRED,
            MemberError.MEMBER_CODE_INVALID, MemberError.MEMBER_CODE_FOREIGN, MemberError.LOOKUP_TICKET_INVALID,
            MemberError.LOOKUP_TICKET_EXPIRED, MemberError.LOOKUP_TICKET_FOREIGN, PointsError.ORDER_DUPLICATE,
            PointsError.PURCHASE_NEEDS_MANAGER, PointsError.PURCHASE_ABOVE_LIMIT,
            PointsError.STAFF_DAILY_LIMIT_REACHED)
@mutation
@blp.arguments(PurchaseArgs)
@blp.response(201, RecordedPurchaseSchema)
def record_purchase(args):
    """Record a purchase in the caller's store, the member named by a code scanned now or a
    lookup's ticket; the same order number again returns it. With the member's new balance and tier."""
    if "member_code" in args:
        member_id = _member_by_code(args["member_code"]).id
    else:
        member_id = member_id_of(args["lookup_ticket"], g.principal)
    purchase, _ = purchases.record_purchase(g.principal, member_id, args["order_no"], args["amount_fen"])
    return purchase


@blp.route("/purchases")
@blp.arguments(StorePurchaseArgs, location="query")
@blp.response(200, PurchasePageSchema)
def list_purchases(args):
    """The store's purchases, newest first; `order_no` finds the one of an order number."""
    return page(purchases.store_purchases(g.principal, args.get("order_no"), args.get("cursor"), args["limit"] + 1),
                args["limit"])


@blp.route("/purchases/<int:purchase_id>")
@blp.errors(AuthError.STORE_FORBIDDEN, PointsError.PURCHASE_NOT_FOUND)
@blp.response(200, PurchaseSchema)
def get_purchase(purchase_id):
    return purchases.get_purchase(g.principal, purchase_id)


@blp.route("/purchases/<int:purchase_id>/refunds", methods=["POST"])
@blp.errors(AuthError.STORE_FORBIDDEN, AuthError.ROLE_FORBIDDEN, PointsError.POINTS_INSUFFICIENT,
            PointsError.PURCHASE_NOT_FOUND, PointsError.REFUND_EXCEEDS_PURCHASE, PointsError.REFUND_DUPLICATE)
@mutation
@blp.arguments(RefundArgs)
@blp.response(201, RefundSchema)
def refund_purchase(args, purchase_id):
    """Refund part or all of a purchase (managers): reverses its points and growth in proportion."""
    refund, _ = purchases.refund(g.principal, purchase_id, args["refund_no"], args["amount_fen"])
    return refund
