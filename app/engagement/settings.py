"""The rules operators set for check-in and referral, stored as one JSON row each.

Until an operator saves rules, the defaults below apply. The admin API validates a
whole document and replaces the stored one (no partial merges, so what is shown is
what applies).
"""
from dataclasses import asdict, dataclass, field

from sqlalchemy import update

from app.clock import now
from app.db_helpers import insert_ignoring_conflict
from app.engagement.models import EngagementSetting
from app.engagement.rewards import Reward
from app.extensions import db

PHONE_BOUND, FIRST_PURCHASE = "phone_bound", "first_purchase"


@dataclass(frozen=True)
class Milestone:
    """The reward for reaching `day` consecutive check-ins (within a cycle, if there is one)."""

    day: int
    points: int = 0
    growth: int = 0


@dataclass(frozen=True)
class CheckinRules:
    NAME = "checkin"

    daily_points: int = 5
    daily_growth: int = 1
    streak_rewards: tuple[Milestone, ...] = (Milestone(3, 10), Milestone(7, 30, 5), Milestone(30, 100, 20))
    # None: a run keeps counting up; N: day N+1 of a run is day 1 of the next cycle
    cycle_days: int | None = None
    makeup_window_days: int = 7  # the last N days before today can be made up
    makeup_cost_points: int = 20
    makeup_monthly_quota: int = 2

    @classmethod
    def from_dict(cls, data: dict) -> "CheckinRules":
        milestones = tuple(sorted((Milestone(**m) for m in data["streak_rewards"]), key=lambda m: m.day))
        return cls(**{**data, "streak_rewards": milestones})

    @property
    def daily(self) -> Reward:
        return Reward(self.daily_points, self.daily_growth)

    def milestones(self) -> dict[int, Milestone]:
        """Milestones by day; in a cycle, days beyond the cycle can never be reached."""
        return {m.day: m for m in self.streak_rewards if self.cycle_days is None or m.day <= self.cycle_days}


@dataclass(frozen=True)
class ReferralRules:
    NAME = "referral"

    qualify_on: str = PHONE_BOUND  # or FIRST_PURCHASE
    inviter: Reward = field(default_factory=lambda: Reward(points=100, growth=10))
    invitee: Reward = field(default_factory=lambda: Reward(points=50))
    # rewarded invitations per inviter per business day / month; None = no cap
    daily_cap: int | None = 10
    monthly_cap: int | None = 50
    # a first purchase refunded in full within N days of the purchase reverses the rewards
    reversal_window_days: int = 30

    @classmethod
    def from_dict(cls, data: dict) -> "ReferralRules":
        return cls(**{**data, "inviter": Reward(**data["inviter"]), "invitee": Reward(**data["invitee"])})


def load(rules_type):
    row = db.session.get(EngagementSetting, rules_type.NAME)
    return rules_type() if row is None else rules_type.from_dict(row.value)


def save(rules, actor: str | None = None):
    """Replace the stored rules; two operators saving at once both succeed, the last one wins."""
    values = {"name": rules.NAME, "value": asdict(rules), "updated_by": actor, "updated_at": now()}
    if not insert_ignoring_conflict(EngagementSetting, values, ["name"]):
        db.session.execute(update(EngagementSetting).where(EngagementSetting.name == rules.NAME).values(values))
    return rules
