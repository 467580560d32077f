"""分层: members per RFM layer now, their trend, and churn (流失预警 and 沉睡) by tier."""
from flask import render_template

from app.api.console.pages import page_blueprint
from app.layers import trend
from app.layers.models import AT_RISK, DORMANT, LAYERS
from app.members import tiers

blp = page_blueprint("console_layers", __name__)
TREND_DAYS = 90


@blp.get("/layers")
def index():
    now = trend.layers_now()
    points = trend.trend(TREND_DAYS)
    days = sorted({point.day for point in points})
    per_day = {}
    for point in points:
        per_day[(point.day, point.layer)] = per_day.get((point.day, point.layer), 0) + point.members
    tier_names = {tier.id: tier.name for tier in tiers.all_tiers()}
    churn = {}
    if now["day"] is not None:
        for point in points:
            if point.day == now["day"] and point.layer in (AT_RISK, DORMANT):
                churn.setdefault(point.tier_id, {AT_RISK: 0, DORMANT: 0})[point.layer] += point.members
    bars = {
        "tooltip": {"renderMode": "richText"},
        "xAxis": {"type": "category", "data": [row["name"] for row in now["layers"]]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": "会员数", "type": "bar", "data": [row["members"] for row in now["layers"]]}],
    }
    lines = {
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"data": list(LAYERS.values())},
        "xAxis": {"type": "category", "data": [day.isoformat() for day in days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": name, "type": "line", "data": [per_day.get((day, layer), 0) for day in days]}
                   for layer, name in LAYERS.items()],
    }
    return render_template("console/layers.html", now=now, bars=bars, lines=lines, churn=churn,
                           tier_names=tier_names, AT_RISK=AT_RISK, DORMANT=DORMANT)
