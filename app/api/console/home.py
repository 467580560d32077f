"""The overview (概览): the dashboard's numbers for a preset, and logging out."""
from flask import g, redirect, render_template, url_for

from app.api.console import session
from app.api.console.numbers_display import PRESET_NAMES, bar_chart, kpi_cards, line_chart, query_args
from app.api.console.pages import page_blueprint
from app.api.numbers_csv import dashboard_csv
from app.api.numbers_schemas import DashboardCsvArgs, PresetArgs
from app.numbers.dashboard import dashboard
from app.operators.roles import own_session

blp = page_blueprint("console_home", __name__)


@blp.get("/")
def index():
    preset = query_args(PresetArgs)["preset"]
    numbers = dashboard(preset)
    days = [row["day"].strftime("%m-%d") for row in numbers["series"]]
    charts = {
        "over-time": line_chart(
            days, {"新增会员": [row["new_members"] for row in numbers["series"]],
                   "消费笔数": [row["purchases"] for row in numbers["series"]],
                   "签到": [row["checkins"] for row in numbers["series"]]},
            {"消费额": [row["spend_fen"] / 100 for row in numbers["series"]]}),
        "points": bar_chart(days, {"发放": [row["points_issued"] for row in numbers["series"]],
                                   "消耗": [row["points_spent"] for row in numbers["series"]],
                                   "过期": [row["points_expired"] for row in numbers["series"]]}),
        "by-tier": bar_chart([row["name"] for row in numbers["by_tier"]],
                             {"会员数": [row["members"] for row in numbers["by_tier"]],
                              "消费笔数": [row["purchases"] for row in numbers["by_tier"]]}),
        "by-store": bar_chart([row["name"] for row in numbers["by_store"]],
                              {"消费笔数": [row["purchases"] for row in numbers["by_store"]],
                               "核销": [row["verifications"] for row in numbers["by_store"]],
                               "新增会员": [row["new_members"] for row in numbers["by_store"]]}, horizontal=True),
    }
    return render_template("console/dashboard.html", numbers=numbers, preset=preset, presets=PRESET_NAMES,
                           groups=kpi_cards(numbers["kpis"]), charts=charts)


@blp.post("/logout")
@own_session
def logout():
    session.log_out(g.principal)
    return redirect(url_for("console.login"), code=303)


@blp.get("/dashboard.csv")
def csv_table():
    args = query_args(DashboardCsvArgs)
    return dashboard_csv(args["preset"], args["table"])
