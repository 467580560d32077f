"""The numbers' CSV tables, one definition for the admin API and the console: which rows, which columns."""
from flask import Response

from app.api.csv_replies import csv_response
from app.api.numbers_schemas import (
    DashboardDaySchema,
    DashboardStoreSchema,
    DashboardTierSchema,
    PyramidTierSchema,
    TierDaySchema,
    TierFlowSchema,
)
from app.numbers.dashboard import dashboard
from app.numbers.tier_numbers import tier_numbers

KPI_COLUMNS = ["kpi", "value", "previous", "change", "change_pct"]
DASHBOARD_TABLES = {"by_tier": DashboardTierSchema, "by_store": DashboardStoreSchema, "series": DashboardDaySchema}
TIER_TABLES = {"pyramid": PyramidTierSchema, "flow": TierFlowSchema, "series": TierDaySchema}


def dashboard_csv(preset: str, table: str) -> Response:
    numbers, name = dashboard(preset), f"dashboard-{preset}-{table}.csv"
    if table == "kpis":
        return csv_response(name, KPI_COLUMNS, ({"kpi": kpi, **values} for kpi, values in numbers["kpis"].items()))
    return csv_response(name, list(DASHBOARD_TABLES[table]().fields), numbers[table])


def tiers_csv(preset: str, table: str) -> Response:
    return csv_response(f"tiers-{preset}-{table}.csv", list(TIER_TABLES[table]().fields),
                        tier_numbers(preset)[table])
