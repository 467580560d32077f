"""Store staff: look members up by their dynamic code, record purchases and refunds."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.limits import failed_attempts_limit
from app.api.principals import require
from app.api.schemas import (
    MemberLookupArgs,
    MemberSummarySchema,
    PurchaseArgs,
    PurchaseSchema,
    RefundArgs,
    RefundSchema,
)
from app.members.code import resolve_code
from app.purchases import service as purchases
from app.security import STAFF

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff", description="Store staff (staff token)")
blp.before_request(require(STAFF))

failed_lookups = failed_attempts_limit("MEMBER_CODE_LOOKUP_FAILURES", "member-code-failures")


@blp.route("/member-lookups", methods=["POST"])
@failed_lookups
@blp.arguments(MemberLookupArgs)
@blp.response(200, MemberSummarySchema)
def lookup_member(args):
    """Scan a member's dynamic code: who they are, their tier, discount and points."""
    return resolve_code(args["code"])


@blp.route("/purchases", methods=["POST"])
@mutation
@blp.arguments(PurchaseArgs)
@blp.response(201, PurchaseSchema)
def record_purchase(args):
    """Record a purchase in the caller's store; the same order number again returns it."""
    member_id = args.get("member_id") or resolve_code(args["member_code"]).id
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
