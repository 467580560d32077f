"""Paying engagement rewards through the ledger, each under its own once-only key.

A reward is points, growth and makeup cards. Points and growth go to the ledger with
the keys `<key>:points` and `<key>:growth` (growth through members/, which re-tiers);
cards are rows keyed `<key>:card:<n>`. Paying the same key again changes nothing.
"""
from dataclasses import dataclass

from app.db_helpers import insert_ignoring_conflict
from app.engagement.models import MakeupCard
from app.members import service as members
from app.points import service as ledger


@dataclass(frozen=True)
class Reward:
    points: int = 0
    growth: int = 0
    makeup_cards: int = 0

    def with_points(self, points: int) -> "Reward":
        return Reward(points, self.growth, self.makeup_cards)


def pay(member_id: int, reward: Reward, kind: str, key: str, ref: str) -> None:
    if reward.points:
        ledger.credit_points(member_id, reward.points, ledger.Posting(kind=kind, key=f"{key}:points", ref=ref))
    if reward.growth:
        members.change_growth(member_id, reward.growth, ledger.Posting(kind=kind, key=f"{key}:growth", ref=ref))
    for n in range(reward.makeup_cards):
        insert_ignoring_conflict(MakeupCard, {"member_id": member_id, "source": f"{key}:card:{n}"}, ["source"])


def take_back(member_id: int, reward: Reward, kind: str, key: str, ref: str) -> None:
    """Reverse points and growth paid earlier: spent points leave a negative balance; the
    tier may fall, as with a refunded purchase."""
    if reward.points:
        ledger.debit_points(member_id, reward.points, ledger.Posting(kind=kind, key=f"{key}:points", ref=ref),
                            allow_negative=True)
    if reward.growth:
        members.change_growth(member_id, -reward.growth, ledger.Posting(kind=kind, key=f"{key}:growth", ref=ref),
                              allow_downgrade=True)


def multiplied(points: int, tier) -> int:
    """Check-in points times the tier's multiplier, when the tier's benefits turn it on.

    Benefit flag `checkin_multiplier` (bool) in `tiers.benefits`: absent or false means
    check-in points are the same for every tier. Rounded down, like purchase points.
    """
    if tier.benefits.get("checkin_multiplier"):
        return points * tier.points_multiplier_pct // 100
    return points
