"""The tier page (等级): the pyramid (share of members against share of spend) and the flow
between tiers over a preset period."""
from flask import render_template

from app.api.console.numbers_display import PRESET_NAMES, TOOLTIP, bar_chart, percent, query_args
from app.api.console.pages import page_blueprint
from app.api.numbers_csv import tiers_csv
from app.api.numbers_schemas import PresetArgs, TierCsvArgs
from app.numbers.tier_numbers import tier_numbers

blp = page_blueprint("console_tiers", __name__)


def _sankey(flow: list[dict]) -> dict:
    """Tiers left (from) and right (to): a sankey cannot draw a cycle such as 普通 → 银卡 → 普通."""
    names = sorted({f"{row['from_name']}（前）" for row in flow} | {f"{row['to_name']}（后）" for row in flow})
    return {"tooltip": {"renderMode": "richText"},
            "series": [{"type": "sankey", "data": [{"name": name} for name in names],
                        "links": [{"source": f"{row['from_name']}（前）", "target": f"{row['to_name']}（后）",
                                   "value": row["members"]} for row in flow]}]}


@blp.get("/tiers")
def index():
    preset = query_args(PresetArgs)["preset"]
    numbers = tier_numbers(preset)
    top_down = list(reversed(numbers["pyramid"]))  # the top tier on top
    pyramid = bar_chart([row["name"] for row in top_down],
                        {"会员占比 %": [round((row["member_share"] or 0) * 100, 2) for row in top_down],
                         "消费占比 %": [round((row["spend_share"] or 0) * 100, 2) for row in top_down]},
                        horizontal=True)
    series = numbers["series"]
    moves = {"tooltip": TOOLTIP, "legend": {}, "grid": {"containLabel": True},
             "xAxis": {"type": "category", "data": [row["day"].strftime("%m-%d") for row in series]},
             "yAxis": {"type": "value", "minInterval": 1},
             "series": [{"name": "升级", "type": "bar", "stack": "moves", "data": [row["upgrades"] for row in series]},
                        {"name": "降级", "type": "bar", "stack": "moves",
                         "data": [-row["downgrades"] for row in series]}]}
    charts = {"pyramid": pyramid, "moves": moves}
    if numbers["flow"]:
        charts["flow"] = _sankey(numbers["flow"])
    return render_template("console/tiers.html", numbers=numbers, preset=preset, presets=PRESET_NAMES,
                           charts=charts, percent=percent)


@blp.get("/tiers.csv")
def csv_table():
    args = query_args(TierCsvArgs)
    return tiers_csv(args["preset"], args["table"])
