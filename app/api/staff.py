"""Store staff: look members up by their dynamic code, record purchases and refunds."""
from flask import current_app, g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.principals import require
from app.api.schemas import (
    MemberLookupArgs,
    MemberLookupSchema,
    PurchaseArgs,
    PurchaseSchema,
    RefundArgs,
    RefundSchema,
)
from app.limits import failed_attempts_limit
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
    """A member as a lookup shows them: the summary's fields, and the ticket for a purchase."""

    def __init__(self, member: Member, ticket: str):
        self.member, self.lookup_ticket = member, ticket
        self.lookup_ticket_expires_in = current_app.config["MEMBER_LOOKUP_TICKET_TTL"]

    def __getattr__(self, name):  # the summary's fields are the member's
        return getattr(self.member, name)


@blp.route("/member-lookups", methods=["POST"])
@blp.arguments(MemberLookupArgs)
@blp.response(200, MemberLookupSchema)
def lookup_member(args):
    """Scan a member's dynamic code: who they are, their tier, discount and points, and a
    ticket that names them in this account's purchases for a few minutes."""
    member = _member_by_code(args["code"])
    return _LookedUp(member, issue_ticket(member, g.principal))


@blp.route("/purchases", methods=["POST"])
@mutation
@blp.arguments(PurchaseArgs)
@blp.response(201, PurchaseSchema)
def record_purchase(args):
    """Record a purchase in the caller's store, the member named by a code scanned now or a
    lookup's ticket; the same order number again returns it."""
    if "member_code" in args:
        member_id = _member_by_code(args["member_code"]).id
    else:
        member_id = member_id_of(args["lookup_ticket"], g.principal)
    purchase, _ = purchases.record_purchase(g.principal, member_id, args["order_no"], args["amount_fen"])
    return purchase


@blp.route("/purchases/<int:purchase_id>")
@blp.response(200, PurchaseSchema)
def get_purchase(purchase_id):
    return purchases.get_purchase(g.principal, purchase_id)


@blp.route("/purchases/<int:purchase_id>/refunds", methods=["POST"])
@mutation
@blp.arguments(RefundArgs)
@blp.response(201, RefundSchema)
def refund_purchase(args, purchase_id):
    """Refund part or all of a purchase (managers): reverses its points and growth in proportion."""
    refund, _ = purchases.refund(g.principal, purchase_id, args["refund_no"], args["amount_fen"])
    return refund
