"""Operators: the dashboard and tier numbers, as JSON and as CSV tables (admin token)."""
from app.api.blueprint import Blueprint
from app.api.numbers_csv import dashboard_csv, tiers_csv
from app.api.numbers_schemas import DashboardCsvArgs, DashboardSchema, PresetArgs, TierCsvArgs, TierNumbersSchema
from app.api.principals import require
from app.numbers.dashboard import dashboard
from app.numbers.tier_numbers import tier_numbers
from app.security import ADMIN

blp = Blueprint("admin_numbers", __name__, url_prefix="/api/v1/admin",
                description="The programme's numbers, from the daily rollups (admin token)")
blp.before_request(require(ADMIN))

CSV = {"content_type": "text/csv", "description": "The table as CSV (UTF-8 with a BOM), streamed; `table` picks it"}


@blp.route("/dashboard")
@blp.arguments(PresetArgs, location="query")
@blp.response(200, DashboardSchema)
def get_dashboard(args):
    """Each KPI of the period against the previous one of the same length; by tier, by store, per day."""
    return dashboard(args["preset"])


@blp.route("/dashboard.csv")
@blp.arguments(DashboardCsvArgs, location="query")
@blp.response(200, **CSV)
def get_dashboard_csv(args):
    return dashboard_csv(args["preset"], args["table"])


@blp.route("/tiers/numbers")
@blp.arguments(PresetArgs, location="query")
@blp.response(200, TierNumbersSchema)
def get_tier_numbers(args):
    """The pyramid now (share of members against share of the period's spend) and the flow between tiers."""
    return tier_numbers(args["preset"])


@blp.route("/tiers/numbers.csv")
@blp.arguments(TierCsvArgs, location="query")
@blp.response(200, **CSV)
def get_tier_numbers_csv(args):
    return tiers_csv(args["preset"], args["table"])
