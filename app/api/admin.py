"""Operators: tiers, members, point adjustments, stores and staff."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import (
    AdjustmentArgs,
    AdminMemberSchema,
    LedgerArgs,
    LedgerEntrySchema,
    LedgerPageSchema,
    StaffArgs,
    StaffSchema,
    StoreSchema,
    TierPatchSchema,
    TierSchema,
)
from app.members import service as members
from app.members import tiers
from app.points import service as ledger
from app.security import ADMIN
from app.stores import service as stores

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Operators (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/tiers")
@blp.response(200, TierSchema(many=True))
def list_tiers():
    return tiers.all_tiers()


@blp.route("/tiers", methods=["POST"])
@mutation
@blp.arguments(TierSchema)
@blp.response(201, TierSchema)
def create_tier(args):
    """Add a tier. Levels and thresholds must rise together."""
    return tiers.create_tier(**args)


@blp.route("/tiers/<int:tier_id>", methods=["PATCH"])
@mutation
@blp.arguments(TierPatchSchema)
@blp.response(200, TierSchema)
def update_tier(args, tier_id):
    return tiers.update_tier(tier_id, **args)


@blp.route("/members/<int:member_id>")
@blp.response(200, AdminMemberSchema)
def get_member(member_id):
    return members.get_member(member_id)


@blp.route("/members/<int:member_id>/points/entries")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, LedgerPageSchema)
def member_ledger(args, member_id):
    members.get_member(member_id)
    items = ledger.entries_page(member_id, args["account"], args.get("cursor"), args["limit"] + 1)
    return page(items, args["limit"])


@blp.route("/members/<int:member_id>/points-adjustments", methods=["POST"])
@mutation
@blp.arguments(AdjustmentArgs)
@blp.response(201, LedgerEntrySchema)
def adjust_points(args, member_id):
    """Credit or debit points with a reason; audited with the operator. Never below zero."""
    return ledger.adjust_points(member_id, args["delta"], actor=g.scope, reason=args["reason"])


@blp.route("/stores")
@blp.response(200, StoreSchema(many=True))
def list_stores():
    return stores.all_stores()


@blp.route("/stores", methods=["POST"])
@mutation
@blp.arguments(StoreSchema)
@blp.response(201, StoreSchema)
def create_store(args):
    return stores.create_store(**args)


@blp.route("/stores/<int:store_id>/staff", methods=["POST"])
@mutation
@blp.arguments(StaffArgs)
@blp.response(201, StaffSchema)
def create_staff(args, store_id):
    return stores.create_staff(store_id, **args)
