"""Operators: the dashboard and tier numbers, as JSON and as CSV tables (admin token)."""
from app.api.blueprint import Blueprint
from app.api.csv_replies import csv_response
from app.api.numbers_schemas import (
    DashboardCsvArgs,
    DashboardDaySchema,
    DashboardSchema,
    DashboardStoreSchema,
    DashboardTierSchema,
    PresetArgs,
    PyramidTierSchema,
    TierCsvArgs,
    TierDaySchema,
    TierFlowSchema,
    TierNumbersSchema,
)
from app.api.principals import require
from app.numbers.dashboard import dashboard
from app.numbers.tier_numbers import tier_numbers
from app.security import ADMIN

blp = Blueprint("admin_numbers", __name__, url_prefix="/api/v1/admin",
                description="The programme's numbers, from the daily rollups (admin token)")
blp.before_request(require(ADMIN))

KPI_COLUMNS = ["kpi", "value", "previous", "change", "change_pct"]
CSV = {"content_type": "text/csv", "description": "The table as CSV, streamed; `table` picks which"}


def _columns(schema) -> list[str]:
    return list(schema().fields)


@blp.route("/dashboard")
@blp.arguments(PresetArgs, location="query")
@blp.response(200, DashboardSchema)
def get_dashboard(args):
    """Each KPI of the period against the previous one of the same length; by tier, by store, per day."""
    return dashboard(args["preset"])


@blp.route("/dashboard.csv")
@blp.arguments(DashboardCsvArgs, location="query")
@blp.response(200, **CSV)
def dashboard_csv(args):
    numbers, table = dashboard(args["preset"]), args["table"]
    name = f"dashboard-{args['preset']}-{table}.csv"
    if table == "kpis":
        return csv_response(name, KPI_COLUMNS, ({"kpi": kpi, **values} for kpi, values in numbers["kpis"].items()))
    schema = {"by_tier": DashboardTierSchema, "by_store": DashboardStoreSchema, "series": DashboardDaySchema}[table]
    return csv_response(name, _columns(schema), numbers[table])


@blp.route("/tiers/numbers")
@blp.arguments(PresetArgs, location="query")
@blp.response(200, TierNumbersSchema)
def get_tier_numbers(args):
    """The pyramid now (share of members against share of the period's spend) and the flow between tiers."""
    return tier_numbers(args["preset"])


@blp.route("/tiers/numbers.csv")
@blp.arguments(TierCsvArgs, location="query")
@blp.response(200, **CSV)
def tier_numbers_csv(args):
    numbers, table = tier_numbers(args["preset"]), args["table"]
    schema = {"pyramid": PyramidTierSchema, "flow": TierFlowSchema, "series": TierDaySchema}[table]
    return csv_response(f"tiers-{args['preset']}-{table}.csv", _columns(schema), numbers[table])
