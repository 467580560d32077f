"""The dashboard (概览): each KPI of a preset period against the same-length period before it,
by tier and by store, and a series per day for the charts. Read from the rollups only."""
from flask import current_app
from sqlalchemy import select

from app.clock import today
from app.extensions import db
from app.members.tiers import all_tiers
from app.numbers.models import NO_STORE
from app.numbers.periods import preset_period
from app.numbers.reading import Facts, LiveFacts, Snapshot
from app.stores.models import Store


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def count_kpi(value: int, previous: int | None) -> dict:
    change = None if previous is None else value - previous
    return {"value": value, "previous": previous, "change": change,
            "change_pct": None if change is None else ratio(change, previous)}


def rate_kpi(value: float | None, previous: float | None) -> dict:
    both = value is not None and previous is not None
    return {"value": value, "previous": previous, "change": round(value - previous, 4) if both else None}


def member_days(facts: Facts, members_at_last: int) -> int:
    """Σ over the period's days of the members who had joined by each day's end."""
    joined, members, total = facts.daily("new_members"), members_at_last, 0
    for day in reversed(facts.period.each_day()):
        total += members
        members -= joined[day]
    return total


def _rates(facts: Facts, members_at_last: int) -> dict:
    points = facts.points()
    return {
        "redemption_rate": ratio(points["spent"], points["issued"]),
        "breakage_rate": ratio(points["expired"], points["issued"]),
        "checkin_rate": ratio(facts.total("checkins"), member_days(facts, members_at_last)),
        "benefit_claim_rate": ratio(facts.total("benefits_claimed"), facts.total("benefits_granted")),
        "coupon_use_rate": ratio(verified(facts), facts.total("coupons_issued")),
    }


def verified(facts: Facts, by: str | None = None):
    if by is None:
        return facts.total("verifications") - facts.total("verifications_undone")
    counted = facts.by("verifications", by)
    counted.subtract(facts.by("verifications_undone", by))
    return counted


def series(facts: Facts) -> list[dict]:
    daily = {metric: facts.daily(metric) for metric in (
        "new_members", "purchases", "spend_fen", "refunded_fen", "checkins", "coupons_issued")}
    verifications, undone = facts.daily("verifications"), facts.daily("verifications_undone")
    points = facts.points_daily()
    return [{"day": day, **{metric: counted[day] for metric, counted in daily.items()},
             "verifications": verifications[day] - undone[day],
             **{f"points_{flow}": value for flow, value in points[day].items()}}
            for day in facts.period.each_day()]


def dashboard(preset: str) -> dict:
    period = preset_period(preset, today())
    live = LiveFacts()
    current, previous, snapshot = Facts(period, live), Facts(period.previous, live), Snapshot(live)
    members_by_tier = snapshot.members_by_tier()
    members = sum(members_by_tier.values())
    members_before = members - current.total("new_members")  # at the end of the previous period
    outstanding = snapshot.outstanding_points()
    outstanding_before = outstanding - current.total("points")
    points, points_before = current.points(), previous.points()
    purchases, spend = current.total("purchases"), current.total("spend_fen")
    purchases_before, spend_before = previous.total("purchases"), previous.total("spend_fen")
    buyers, repeaters = snapshot.distinct("purchasers", preset), snapshot.distinct("repeat_purchasers", preset)
    buyers_before = snapshot.distinct("purchasers", f"{preset}:previous")
    repeaters_before = snapshot.distinct("repeat_purchasers", f"{preset}:previous")
    rates, rates_before = _rates(current, members), _rates(previous, members_before)
    value_rate = current_app.config["POINTS_VALUE_FEN_PER_100_POINTS"]
    kpis = {
        "members_total": count_kpi(members, members_before),
        "members_new": count_kpi(current.total("new_members"), previous.total("new_members")),
        "members_active_30d": count_kpi(sum(snapshot.distinct("active", "active").values()),
                                        sum(snapshot.distinct("active", "active:previous").values())),
        "purchases": count_kpi(purchases, purchases_before),
        "spend_fen": count_kpi(spend, spend_before),
        "refunded_fen": count_kpi(current.total("refunded_fen"), previous.total("refunded_fen")),
        "average_order_fen": count_kpi(spend // purchases if purchases else 0,
                                       spend_before // purchases_before if purchases_before else 0),
        "points_issued": count_kpi(points["issued"], points_before["issued"]),
        "points_spent": count_kpi(points["spent"], points_before["spent"]),
        "points_expired": count_kpi(points["expired"], points_before["expired"]),
        "points_outstanding": count_kpi(outstanding, outstanding_before),
        "points_outstanding_value_fen": count_kpi(outstanding * value_rate // 100,
                                                  outstanding_before * value_rate // 100),
        "points_expiring_30d": count_kpi(sum(snapshot.by("expiring_30d").values()), None),
        "points_expiring_90d": count_kpi(sum(snapshot.by("expiring_90d").values()), None),
        "repeat_purchase_rate": rate_kpi(ratio(sum(repeaters.values()), sum(buyers.values())),
                                         ratio(sum(repeaters_before.values()), sum(buyers_before.values()))),
        **{name: rate_kpi(rates[name], rates_before[name]) for name in rates},
    }
    purchases_by_tier, spend_by_tier = current.by("purchases", "tier"), current.by("spend_fen", "tier")
    by_tier = [{
        "tier_id": tier.id, "level": tier.level, "name": tier.name, "members": members_by_tier[tier.id],
        "purchases": purchases_by_tier[tier.id], "spend_fen": spend_by_tier[tier.id],
        "average_order_fen": spend_by_tier[tier.id] // purchases_by_tier[tier.id] if purchases_by_tier[tier.id] else 0,
        "purchasers": buyers[tier.id], "repeat_purchasers": repeaters[tier.id],
        "repeat_purchase_rate": ratio(repeaters[tier.id], buyers[tier.id]),
    } for tier in all_tiers()]
    return {
        "preset": preset, "first": period.first, "last": period.last,
        "previous_first": period.previous.first, "previous_last": period.previous.last,
        "snapshot_day": snapshot.day, "kpis": kpis, "by_tier": by_tier,
        "by_store": by_store(current, snapshot), "series": series(current),
    }


def by_store(facts: Facts, snapshot: Snapshot) -> list[dict]:
    members, new = snapshot.members_by_store(), facts.by("new_members", "store")
    purchases, spend = facts.by("purchases", "store"), facts.by("spend_fen", "store")
    verifications = verified(facts, "store")
    stores = [(store.id, store.code, store.name)
              for store in db.session.execute(select(Store).order_by(Store.id)).scalars()]
    return [{"store_id": store_id or None, "code": code, "name": name, "members": members[store_id],
             "new_members": new[store_id], "purchases": purchases[store_id], "spend_fen": spend[store_id],
             "verifications": verifications[store_id]}
            for store_id, code, name in [*stores, (NO_STORE, None, "未归属门店")]]
