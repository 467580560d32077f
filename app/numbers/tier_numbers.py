"""The tier page (等级): the pyramid now (each tier's share of members against its share of the
period's spend) and the flow between tiers over the period (from the tier changes' records),
per pair of tiers and per day. Read from the rollups only."""
from collections import Counter

from app.clock import today
from app.members.tiers import all_tiers
from app.numbers.dashboard import ratio
from app.numbers.periods import preset_period
from app.numbers.reading import Facts, LiveFacts, Snapshot

UP, DOWN = "up", "down"


def tier_numbers(preset: str) -> dict:
    period = preset_period(preset, today())
    live = LiveFacts()
    facts, snapshot = Facts(period, live), Snapshot(live)
    tiers = all_tiers()
    level = {tier.id: tier.level for tier in tiers}
    name = {tier.id: tier.name for tier in tiers}
    members, spend = snapshot.members_by_tier(), facts.by("spend_fen", "tier")
    changes = Counter({(int(from_tier), to_tier): count
                       for (to_tier, from_tier), count in facts.by("tier_changes", "tier", "detail").items()})

    def direction(from_tier: int, to_tier: int) -> str:
        return UP if level[to_tier] > level[from_tier] else DOWN

    moved = {key: Counter() for key in ("upgraded_in", "downgraded_in", "upgraded_out", "downgraded_out")}
    for (from_tier, to_tier), count in changes.items():
        way = "upgraded" if direction(from_tier, to_tier) == UP else "downgraded"
        moved[f"{way}_in"][to_tier] += count
        moved[f"{way}_out"][from_tier] += count
    all_members, all_spend = sum(members.values()), sum(spend.values())
    pyramid = [{"tier_id": tier.id, "level": tier.level, "name": tier.name,
                "members": members[tier.id], "member_share": ratio(members[tier.id], all_members),
                "spend_fen": spend[tier.id], "spend_share": ratio(spend[tier.id], all_spend),
                **{key: counted[tier.id] for key, counted in moved.items()}}
               for tier in tiers]
    flow = [{"from_tier_id": from_tier, "from_name": name[from_tier], "to_tier_id": to_tier,
             "to_name": name[to_tier], "direction": direction(from_tier, to_tier), "members": count}
            for (from_tier, to_tier), count in sorted(changes.items(), key=lambda pair: (level[pair[0][0]],
                                                                                         level[pair[0][1]]))]
    daily = Counter()
    for (day, to_tier, from_tier), count in facts.daily("tier_changes", "tier", "detail").items():
        daily[(day, direction(int(from_tier), to_tier))] += count
    return {
        "preset": preset, "first": period.first, "last": period.last, "snapshot_day": snapshot.day,
        "pyramid": pyramid, "flow": flow,
        "series": [{"day": day, "upgrades": daily[(day, UP)], "downgrades": daily[(day, DOWN)]}
                   for day in period.each_day()],
    }
