"""How the console shows the numbers (app/numbers): the preset switch, KPI cards with their change
against the previous period, and the ECharts options of the charts."""
from flask import request
from marshmallow import ValidationError

from app.errors import AppError, RequestError

PRESET_NAMES = {"7d": "近7天", "30d": "近30天", "90d": "近90天", "ytd": "今年"}
TOOLTIP = {"trigger": "axis", "renderMode": "richText"}  # the HTML tooltip's inline styles break the CSP

KPI_NAMES = {
    "members_total": "会员总数", "members_new": "新增会员", "members_active_30d": "近30天活跃会员",
    "purchases": "会员消费笔数", "spend_fen": "会员消费额", "refunded_fen": "退款额", "average_order_fen": "客单价",
    "repeat_purchase_rate": "复购率", "points_issued": "积分发放", "points_spent": "积分消耗",
    "points_expired": "积分过期", "points_outstanding": "积分余额（负债）",
    "points_outstanding_value_fen": "积分负债价值",
    "redemption_rate": "积分使用率", "breakage_rate": "积分过期率", "points_expiring_30d": "30天内到期积分",
    "points_expiring_90d": "90天内到期积分", "checkin_rate": "签到率", "benefit_claim_rate": "权益领取率",
    "coupon_use_rate": "优惠券核销率",
}
KPI_GROUPS = [
    ("会员", ["members_total", "members_new", "members_active_30d", "repeat_purchase_rate"]),
    ("消费", ["purchases", "spend_fen", "average_order_fen", "refunded_fen"]),
    ("积分负债", ["points_issued", "points_spent", "points_expired", "points_outstanding",
              "points_outstanding_value_fen", "redemption_rate", "breakage_rate", "points_expiring_30d",
              "points_expiring_90d"]),
    ("参与", ["checkin_rate", "benefit_claim_rate", "coupon_use_rate"]),
]


def query_args(schema) -> dict:
    """The query read by the API's schema (app/api/numbers_schemas.py): malformed, a 422 page."""
    try:
        return schema().load(request.args.to_dict())
    except ValidationError as error:
        raise AppError(RequestError.VALIDATION_ERROR, details={"fields": error.messages}) from None


def yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def _shown(key: str, value) -> str:
    if value is None:
        return "—"
    if key.endswith("_rate"):
        return percent(value)
    return yuan(value) if key.endswith("_fen") else f"{value:,}"


def _change(key: str, kpi: dict) -> tuple[str, str]:
    """The change as shown, and its direction (up, down, flat, none)."""
    change = kpi["change"]
    if change is None:
        return "—", "none"
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    if key.endswith("_rate"):
        return f"{change * 100:+.2f} 个百分点", direction
    amount = (("+" if change > 0 else "-") + yuan(abs(change))) if key.endswith("_fen") else f"{change:+,}"
    pct = kpi["change_pct"]
    return (amount if pct is None else f"{amount}（{pct * 100:+.1f}%）"), direction


def kpi_cards(kpis: dict) -> list[tuple[str, list[dict]]]:
    groups = []
    for group, keys in KPI_GROUPS:
        cards = []
        for key in keys:
            change, direction = _change(key, kpis[key])
            cards.append({"key": key, "name": KPI_NAMES[key], "value": _shown(key, kpis[key]["value"]),
                          "previous": _shown(key, kpis[key]["previous"]), "change": change, "direction": direction})
        groups.append((group, cards))
    return groups


def bar_chart(categories: list[str], series: dict[str, list], horizontal: bool = False) -> dict:
    category_axis, value_axis = {"type": "category", "data": categories}, {"type": "value"}
    return {"tooltip": TOOLTIP, "legend": {}, "grid": {"containLabel": True},
            "xAxis": value_axis if horizontal else category_axis, "yAxis": category_axis if horizontal else value_axis,
            "series": [{"name": name, "type": "bar", "data": data} for name, data in series.items()]}


def line_chart(days: list[str], series: dict[str, list], money_series: dict[str, list]) -> dict:
    """Counts on the left axis, yuan on the right."""
    return {"tooltip": TOOLTIP, "legend": {}, "grid": {"containLabel": True},
            "xAxis": {"type": "category", "data": days},
            "yAxis": [{"type": "value", "name": "数量", "minInterval": 1}, {"type": "value", "name": "元"}],
            "series": [{"name": name, "type": "line", "data": data} for name, data in series.items()]
            + [{"name": name, "type": "line", "yAxisIndex": 1, "data": data} for name, data in money_series.items()]}
