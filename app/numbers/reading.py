"""What a page reads: the facts of a period (the days rolled up from daily_facts, the later
ones live from today's rows), the latest snapshot, and the live days after it.

Bounded by the size of the rollups (days × tiers × stores), not by the number of members or
ledger entries: the live part is the rows since today was last rolled up (a few minutes ago),
plus, for the members counted once in a window, those who purchased or checked in today.
"""
from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlalchemy import BigInteger, case, cast, func, select, union

from app.clock import start_of_day, today
from app.engagement.models import Checkin
from app.extensions import db
from app.member_row import Member
from app.numbers.facts import facts_of_day
from app.numbers.models import DailyFact, DailySnapshot
from app.numbers.periods import Period
from app.numbers.rollup import last_rolled_day, rolled_in_part
from app.numbers.snapshots import windows
from app.purchases.models import Purchase

TOTAL_FIELDS = ("tier", "store", "detail")
DAILY_FIELDS = ("day", "tier", "detail")

# Which ledger kinds spend points and which expire them; every other kind issues them (net of
# its own reversals: a refund's claw-back, an adjustment down), so outstanding = issued - spent - expired.
SPENDING_KINDS = frozenset({"mall_redeem", "mall_refund", "conversion", "checkin_makeup"})
EXPIRING_KINDS = frozenset({"expire"})


def points_flow(by_kind: Counter) -> dict:
    spent = -sum(value for kind, value in by_kind.items() if kind in SPENDING_KINDS)
    expired = -sum(value for kind, value in by_kind.items() if kind in EXPIRING_KINDS)
    return {"issued": sum(by_kind.values()) + spent + expired, "spent": spent, "expired": expired}


def _project(counter: Counter, names: tuple, fields: tuple) -> Counter:
    at = [names.index(field) for field in fields]
    projected: Counter = Counter()
    for key, value in counter.items():
        projected[key[at[0]] if len(at) == 1 else tuple(key[i] for i in at)] += value
    return projected


class LiveFacts:
    """The days not rolled up in full yet (normally only today), their facts read once per page:
    the part rolled up so far (a few minutes ago) and the rows since, live."""

    def __init__(self):
        self.rolled_to = last_rolled_day()
        self.first = self.rolled_to + timedelta(days=1) if self.rolled_to else today()
        self._rolled_until = rolled_in_part()
        self._days: dict[date, list] = {}

    def of(self, day: date) -> list:
        if day not in self._days:
            until = self._rolled_until.get(day)
            self._days[day] = facts_of_day(day, since=until) + ([] if until is None else _rolled_facts(day))
        return self._days[day]


def _rolled_facts(day: date) -> list:
    return list(db.session.execute(select(DailyFact.metric, DailyFact.tier_id, DailyFact.store_id,
                                          DailyFact.detail, DailyFact.value).where(DailyFact.day == day)))


class Facts:
    """The additive facts of a period, summed (`total`, `by`) and per day (`daily`)."""

    def __init__(self, period: Period, live: LiveFacts):
        self.period = period
        self._totals: dict[str, Counter] = defaultdict(Counter)  # metric → (tier, store, detail) → Σ
        self._days: dict[str, Counter] = defaultdict(Counter)  # metric → (day, tier, detail) → Σ
        rolled = period.up_to(live.rolled_to) if live.rolled_to else None
        if rolled is not None:
            self._read_rolled(rolled)
        for day in Period(max(live.first, period.first), period.last).each_day():
            for metric, tier_id, store_id, detail, value in live.of(day):
                self._totals[metric][(tier_id, store_id, detail)] += value
                self._days[metric][(day, tier_id, detail)] += value

    def _read_rolled(self, rolled: Period) -> None:
        in_period = (DailyFact.day >= rolled.first, DailyFact.day <= rolled.last)
        value = cast(func.sum(DailyFact.value), BigInteger)
        totals = (DailyFact.metric, DailyFact.tier_id, DailyFact.store_id, DailyFact.detail)
        for metric, *key, total in db.session.execute(select(*totals, value).where(*in_period).group_by(*totals)):
            self._totals[metric][tuple(key)] += int(total)
        daily = (DailyFact.metric, DailyFact.day, DailyFact.tier_id, DailyFact.detail)
        for metric, *key, total in db.session.execute(select(*daily, value).where(*in_period).group_by(*daily)):
            self._days[metric][tuple(key)] += int(total)

    def total(self, metric: str) -> int:
        return sum(self._totals[metric].values())

    def by(self, metric: str, *fields: str) -> Counter:
        return _project(self._totals[metric], TOTAL_FIELDS, fields)

    def daily(self, metric: str, *fields: str) -> Counter:
        return _project(self._days[metric], DAILY_FIELDS, ("day", *fields))

    def points(self) -> dict:
        return points_flow(self.by("points", "detail"))

    def points_daily(self) -> dict[date, dict]:
        by_day: dict[date, Counter] = {day: Counter() for day in self.period.each_day()}
        for (day, kind), value in self.daily("points", "detail").items():
            by_day[day][kind] += value
        return {day: points_flow(kinds) for day, kinds in by_day.items()}

    def members_moved(self) -> Counter:
        """Per tier, members who joined in it or changed into it, less those who left it."""
        moved = self.by("new_members", "tier")
        for (to_tier, from_tier), count in self.by("tier_changes", "tier", "detail").items():
            moved[to_tier] += count
            moved[int(from_tier)] -= count
        return moved


class Snapshot:
    """The latest snapshot (of yesterday, when the job ran) and the live facts after it."""

    def __init__(self, live: LiveFacts):
        self.day: date | None = db.session.execute(select(func.max(DailySnapshot.day))).scalar_one()
        self.values: Counter = Counter()
        if self.day is not None:
            for metric, tier_id, store_id, detail, value in db.session.execute(
                    select(DailySnapshot.metric, DailySnapshot.tier_id, DailySnapshot.store_id, DailySnapshot.detail,
                           DailySnapshot.value).where(DailySnapshot.day == self.day)):
                self.values[(metric, tier_id, store_id, detail)] += value
        self.after = Facts(Period(self.day + timedelta(days=1) if self.day else today(), today()), live)
        self._purchasers: dict[date, tuple[Counter, Counter]] = {}

    def by(self, metric: str, field: str = "tier", detail: str = "") -> Counter:
        """The snapshot's values of a metric and detail per tier (or store)."""
        at = {"tier": 1, "store": 2}[field]
        counted: Counter = Counter()
        for key, value in self.values.items():
            if key[0] == metric and key[3] == detail:
                counted[key[at]] += value
        return counted

    def members_by_tier(self) -> Counter:
        members = self.by("members")
        members.update(self.after.members_moved())
        return members

    def members_by_store(self) -> Counter:
        members = self.by("members", "store")
        members.update(self.after.by("new_members", "store"))
        return members

    def outstanding_points(self) -> int:
        return sum(self.by("outstanding_points").values()) + self.after.total("points")

    def distinct(self, metric: str, detail: str) -> Counter:
        """Members counted once in a window (detail: "7d", "active", "7d:previous", ...), per tier: the
        snapshot's count, plus those the live days after it add. The window starts where it did for
        the day after the snapshot (today, when the job ran last night); a previous window is over."""
        counted = self.by(metric, detail=detail)
        if detail.endswith(":previous"):
            return counted
        window_first = self._window_first(detail)
        if metric == "active":
            return counted + active_after(self.after.period, window_first)
        if window_first not in self._purchasers:  # the purchasers and the repeaters of a window: one statement
            self._purchasers[window_first] = purchasers_after(self.after.period, window_first)
        purchasers, repeaters = self._purchasers[window_first]
        return counted + (purchasers if metric == "purchasers" else repeaters)

    def _window_first(self, detail: str) -> date:
        return windows(self.day or today() - timedelta(days=1))[detail].first


def _live_instants(live: Period):
    return start_of_day(live.first), start_of_day(live.last + timedelta(days=1))


def purchasers_after(live: Period, window_first: date) -> tuple[Counter, Counter]:
    """Per tier, members who first purchased in the window on the live days, and those whose
    second purchase in it came then: the live days' purchasers, one row each."""
    since, until = _live_instants(live)
    live_buyers = select(Purchase.member_id).where(Purchase.created_at >= since, Purchase.created_at < until)
    before = cast(func.sum(case((Purchase.created_at < since, 1), else_=0)), BigInteger)
    rows = db.session.execute(
        select(Member.tier_id, before, func.count()).join(Member, Member.id == Purchase.member_id)
        .where(Purchase.member_id.in_(live_buyers), Purchase.created_at >= start_of_day(window_first),
               Purchase.created_at < until)
        .group_by(Purchase.member_id, Member.tier_id))
    purchasers, repeaters = Counter(), Counter()
    for tier_id, earlier, total in rows:
        purchasers[tier_id] += int(earlier) == 0
        repeaters[tier_id] += int(earlier) < 2 <= total
    return purchasers, repeaters


def active_after(live: Period, window_first: date) -> Counter:
    """Per tier, members active on the live days who were not earlier in the window: one
    statement, so that today's thousands of active members never travel to the app and back."""
    since, until = _live_instants(live)
    members = union(
        select(Purchase.member_id.label("member_id")).where(Purchase.created_at >= since, Purchase.created_at < until),
        select(Checkin.member_id.label("member_id")).where(Checkin.day >= live.first, Checkin.day <= live.last),
    ).subquery()
    bought_earlier = select(Purchase.id).where(
        Purchase.member_id == members.c.member_id, Purchase.created_at >= start_of_day(window_first),
        Purchase.created_at < since).exists()
    checked_earlier = select(Checkin.id).where(
        Checkin.member_id == members.c.member_id, Checkin.day >= window_first, Checkin.day < live.first).exists()
    return Counter(dict(db.session.execute(
        select(Member.tier_id, func.count()).select_from(members).join(Member, Member.id == members.c.member_id)
        .where(~bought_earlier, ~checked_earlier).group_by(Member.tier_id)).all()))
