"""Operators: tiers, members, point adjustments, stores, staff and operator accounts."""
from flask import g

from app.api.account_schemas import (
    OperatorArgs,
    OperatorPageSchema,
    OperatorRoleArgs,
    OperatorSchema,
    PasswordResetArgs,
    StaffListArgs,
    StaffPageSchema,
)
from app.api.blueprint import Blueprint
from app.api.display import titled
from app.api.idempotency import mutation
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.api.schemas import (
    AdjustmentArgs,
    AdminMemberSchema,
    IntegerIdCursorArgs,
    LedgerArgs,
    LedgerEntrySchema,
    LedgerPageSchema,
    StaffArgs,
    StaffSchema,
    StorePatchSchema,
    StoreSchema,
    TierPatchSchema,
    TierSchema,
)
from app.errors import ConsoleError, MemberError, PointsError, StoreError
from app.members import service as members
from app.members import tiers
from app.operators import service as operators
from app.operators.roles import accounts_only
from app.points import service as ledger
from app.security import ADMIN
from app.stores import service as stores

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Operators (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/tiers")
@blp.response(200, page_schema(TierSchema))
def list_tiers():
    """Every tier, lowest first (a short ladder: one page)."""
    return whole(tiers.all_tiers())


@blp.route("/tiers", methods=["POST"])
@blp.errors(MemberError.TIER_CONFLICT)
@mutation
@blp.arguments(TierSchema)
@blp.response(201, TierSchema)
def create_tier(args):
    """Add a tier. Levels and thresholds must rise together."""
    return tiers.create_tier(**args)


@blp.route("/tiers/<int:tier_id>", methods=["PATCH"])
@blp.errors(MemberError.TIER_NOT_FOUND, MemberError.TIER_CONFLICT)
@mutation
@blp.arguments(TierPatchSchema)
@blp.response(200, TierSchema)
def update_tier(args, tier_id):
    return tiers.update_tier(tier_id, **args)


@blp.route("/members/<int:member_id>")
@blp.errors(MemberError.MEMBER_NOT_FOUND)
@blp.response(200, AdminMemberSchema)
def get_member(member_id):
    return members.get_member(member_id)


@blp.route("/members/<int:member_id>/points/entries")
@blp.errors(MemberError.MEMBER_NOT_FOUND)
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, LedgerPageSchema)
def member_ledger(args, member_id):
    members.get_member(member_id)
    items = ledger.entries_page(member_id, args["account"], args.get("cursor"), args["limit"] + 1)
    return page(titled(items), args["limit"])


@blp.route("/members/<int:member_id>/points-adjustments", methods=["POST"])
@blp.errors(MemberError.MEMBER_NOT_FOUND, PointsError.POINTS_INSUFFICIENT)
@mutation
@blp.arguments(AdjustmentArgs)
@blp.response(201, LedgerEntrySchema)
def adjust_points(args, member_id):
    """Credit or debit points with a reason; audited with the operator. Never below zero."""
    return ledger.adjust_points(member_id, args["delta"], actor=g.scope, reason=args["reason"])


@blp.route("/stores")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, page_schema(StoreSchema))
def list_stores(args):
    """The stores, newest first."""
    return page(stores.stores_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/stores", methods=["POST"])
@blp.errors(StoreError.STORE_CODE_TAKEN)
@mutation
@blp.arguments(StoreSchema)
@blp.response(201, StoreSchema)
def create_store(args):
    return stores.create_store(**args)


@blp.route("/stores/<int:store_id>", methods=["PATCH"])
@blp.errors(StoreError.STORE_NOT_FOUND)
@mutation
@blp.arguments(StorePatchSchema)
@blp.response(200, StoreSchema)
def update_store(args, store_id):
    """Change a store's name, address, opening hours or location."""
    return stores.update_store(store_id, **args)


@blp.route("/stores/<int:store_id>/staff", methods=["POST"])
@blp.errors(StoreError.STORE_NOT_FOUND, StoreError.USERNAME_TAKEN)
@mutation
@blp.arguments(StaffArgs)
@blp.response(201, StaffSchema)
def create_staff(args, store_id):
    return stores.create_staff(store_id, **args)


# Staff and operator accounts: disabling, enabling and a password reset each end the
# account's tokens at once. A reset sets the password the operator gives (it is never
# generated, so no reply, log or idempotency record holds a password).


@blp.route("/staff")
@blp.arguments(StaffListArgs, location="query")
@blp.response(200, StaffPageSchema)
def list_staff(args):
    """Staff accounts, newest first, of every store or of `store_id`'s."""
    return page(stores.staff_page(args.get("store_id"), args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/staff/<int:staff_id>/disable", methods=["POST"])
@blp.errors(StoreError.STAFF_NOT_FOUND)
@mutation
@blp.response(200, StaffSchema)
def disable_staff(staff_id):
    """The account can no longer log in, and its tokens end at once."""
    return stores.set_staff_active(staff_id, False, actor=g.scope)


@blp.route("/staff/<int:staff_id>/enable", methods=["POST"])
@blp.errors(StoreError.STAFF_NOT_FOUND)
@mutation
@blp.response(200, StaffSchema)
def enable_staff(staff_id):
    return stores.set_staff_active(staff_id, True, actor=g.scope)


@blp.route("/staff/<int:staff_id>/password", methods=["POST"])
@blp.errors(StoreError.STAFF_NOT_FOUND)
@mutation
@blp.arguments(PasswordResetArgs)
@blp.response(200, StaffSchema)
def reset_staff_password(args, staff_id):
    """Set a new password (tell the clerk; they may change it themselves); the account's tokens end."""
    return stores.reset_staff_password(staff_id, args["password"], actor=g.scope)


@blp.route("/operators")
@accounts_only
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, OperatorPageSchema)
def list_operators(args):
    """Operator accounts, newest first."""
    return page(operators.operators_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/operators", methods=["POST"])
@blp.errors(StoreError.USERNAME_TAKEN)
@accounts_only
@mutation
@blp.arguments(OperatorArgs)
@blp.response(201, OperatorSchema)
def create_operator(args):
    return operators.create_operator(**args)


@blp.route("/operators/<int:operator_id>/disable", methods=["POST"])
@blp.errors(StoreError.OPERATOR_NOT_FOUND, StoreError.OPERATOR_SELF_DISABLE)
@accounts_only
@mutation
@blp.response(200, OperatorSchema)
def disable_operator(operator_id):
    """The account can no longer log in, and its tokens end at once. Not one's own account
    (409 OPERATOR_SELF_DISABLE), so an active operator always remains."""
    return operators.set_operator_active(g.principal, operator_id, False)


@blp.route("/operators/<int:operator_id>/enable", methods=["POST"])
@blp.errors(StoreError.OPERATOR_NOT_FOUND, StoreError.OPERATOR_SELF_DISABLE)
@accounts_only
@mutation
@blp.response(200, OperatorSchema)
def enable_operator(operator_id):
    return operators.set_operator_active(g.principal, operator_id, True)


@blp.route("/operators/<int:operator_id>/password", methods=["POST"])
@blp.errors(StoreError.OPERATOR_NOT_FOUND)
@accounts_only
@mutation
@blp.arguments(PasswordResetArgs)
@blp.response(200, OperatorSchema)
def reset_operator_password(args, operator_id):
    """Set a new password (pass it on; they may change it themselves); the account's tokens end."""
    return operators.reset_operator_password(operator_id, args["password"], actor=g.scope)


@blp.route("/operators/<int:operator_id>/role", methods=["POST"])
@blp.errors(StoreError.OPERATOR_NOT_FOUND, ConsoleError.OPERATOR_LAST_ADMIN)
@accounts_only
@mutation
@blp.arguments(OperatorRoleArgs)
@blp.response(200, OperatorSchema)
def change_operator_role(args, operator_id):
    """Give the account another role; its tokens end (it logs in again with the new role). The last
    active admin keeps the role (409 OPERATOR_LAST_ADMIN)."""
    return operators.set_operator_role(g.principal, operator_id, args["role"])
