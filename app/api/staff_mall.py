"""Store staff: scan a coupon's code, preview it, verify it (核销), undo a verification."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.limits import failed_attempts_limit
from app.api.mall_schemas import (
    CodeArgs,
    PreviewSchema,
    ReasonArgs,
    VerificationSchema,
    VerifyArgs,
)
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import MAX_ID, CursorArgs
from app.api.staff_schemas import VerificationPageSchema
from app.errors import AuthError, CouponError, RequestError
from app.mall import verification
from app.security import STAFF

blp = Blueprint("staff_mall", __name__, url_prefix="/api/v1/staff", description="Coupon verification (staff token)")
blp.before_request(require(STAFF))

# Only codes that name no coupon count: a clerk meeting used or expired coupons is not guessing.
failed_coupon_codes = failed_attempts_limit("COUPON_LOOKUP_FAILURES", "coupon-code-failures",
                                            counted=lambda error: error.code == CouponError.COUPON_NOT_FOUND)


@blp.route("/coupon-previews", methods=["POST"])
@blp.errors(RequestError.RATE_LIMITED, CouponError.COUPON_NOT_FOUND, CouponError.COUPON_ALREADY_USED,
            CouponError.COUPON_EXPIRED, CouponError.COUPON_VOIDED, CouponError.COUPON_NOT_YET_VALID,
            CouponError.COUPON_WRONG_STORE)
@blp.arguments(CodeArgs)
@blp.response(200, PreviewSchema)
def preview(args):
    """What a scanned coupon is: owner (masked), value, conditions, and whether it can be
    used in this store now (if not, `refusal` is the error a verification would answer)."""
    with failed_coupon_codes():
        return verification.preview(g.principal, args["code"])


@blp.route("/verifications", methods=["POST"])
@blp.errors(RequestError.RATE_LIMITED, CouponError.COUPON_NOT_FOUND, CouponError.COUPON_ALREADY_USED,
            CouponError.COUPON_EXPIRED, CouponError.COUPON_VOIDED, CouponError.COUPON_NOT_YET_VALID,
            CouponError.COUPON_WRONG_STORE, CouponError.COUPON_BELOW_THRESHOLD)
@mutation
@blp.arguments(VerifyArgs)
@blp.response(201, VerificationSchema)
def verify(args):
    """Use the coupon on an order in the caller's store: exactly once, whoever else tries."""
    with failed_coupon_codes():
        return verification.confirm(g.principal, args["code"], args["order_no"], args["amount_fen"])


@blp.route("/verifications")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, VerificationPageSchema)
def list_verifications(args):
    """The store's verifications, newest first (undone ones with `undone_at`)."""
    return page(verification.store_verifications(g.principal, args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route(f"/verifications/<int(max={MAX_ID}):verification_id>/undo", methods=["POST"])
@blp.errors(AuthError.STORE_FORBIDDEN, AuthError.ROLE_FORBIDDEN, CouponError.VERIFICATION_NOT_FOUND,
            CouponError.VERIFICATION_ALREADY_UNDONE, CouponError.VERIFICATION_UNDO_EXPIRED)
@mutation
@blp.arguments(ReasonArgs)
@blp.response(200, VerificationSchema)
def undo(args, verification_id):
    """Undo a verification with a reason: a manager of the store, or the clerk who made it
    within VERIFICATION_UNDO_WINDOW seconds. The coupon is usable again."""
    return verification.undo(g.principal, verification_id, args["reason"])
