"""Operators: how tier benefits are claimed (admin token)."""
from app.api.benefit_schemas import ClaimRateArgs, ClaimRateSchema
from app.api.blueprint import Blueprint
from app.api.pagination import page_schema, whole
from app.api.principals import require
from app.mall import benefits
from app.security import ADMIN

blp = Blueprint("admin_benefits", __name__, url_prefix="/api/v1/admin",
                description="Tier benefit numbers (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/benefits/claim-rates")
@blp.arguments(ClaimRateArgs, location="query")
@blp.response(200, page_schema(ClaimRateSchema))
def claim_rates(args):
    """Per benefit and period: granted, claimed, expired and the claim rate (a few rows a month: one page)."""
    return whole(benefits.claim_rates(args.get("benefit")))
