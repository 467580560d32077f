"""What a page reads: the facts of a period (the days rolled up from daily_facts, the later
ones live from today's rows), the latest snapshot, and the live days after it.

Bounded by the size of the rollups (days × tiers × stores, whole months of a long period read
from their sums), not by the number of members or ledger entries: the live part is the rows since
today was last rolled up (a few minutes ago), and, for the members counted once in a window, those
who purchased or checked in since then (app/numbers/distinct.py).
"""
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, and_, cast, func, or_, select, union_all

from app.clock import start_of_day, today
from app.extensions import db
from app.numbers.distinct import counted_after, so_far
from app.numbers.facts import facts_of_day
from app.numbers.models import DailyFact, DailySnapshot, DailyTotal, MonthlyFact
from app.numbers.periods import Period
from app.numbers.rollup import last_rolled_day, rolled_in_part
from app.numbers.snapshots import windows

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

    def rolled_until(self, day: date) -> datetime | None:
        """Up to when a day not rolled up in full has its facts written (and today its distinct members)."""
        return self._rolled_until.get(day)

    def of(self, day: date) -> list:
        if day not in self._days:
            until = self.rolled_until(day)
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
        """The rolled-up days: totals from the whole months' sums and the other days' facts, the
        series from the days' sums over the stores."""
        months = rolled.whole_months()
        keys = (DailyFact.metric, DailyFact.tier_id, DailyFact.store_id, DailyFact.detail, DailyFact.value)
        days = select(*keys).where(DailyFact.day >= rolled.first, DailyFact.day <= rolled.last)
        if months is not None:  # the days before the months and after them: two ranges of the index
            days = select(*keys).where(or_(and_(DailyFact.day >= rolled.first, DailyFact.day < months.first),
                                           and_(DailyFact.day > months.last, DailyFact.day <= rolled.last)))
            month_keys = (MonthlyFact.metric, MonthlyFact.tier_id, MonthlyFact.store_id, MonthlyFact.detail)
            days = union_all(days, select(*month_keys, MonthlyFact.value).where(
                MonthlyFact.month >= months.first, MonthlyFact.month <= months.last))
        rows = days.subquery()
        totals = (rows.c.metric, rows.c.tier_id, rows.c.store_id, rows.c.detail)
        for metric, *key, total in db.session.execute(
                select(*totals, cast(func.sum(rows.c.value), BigInteger)).group_by(*totals)):
            self._totals[metric][tuple(key)] += int(total)
        for metric, *key, total in db.session.execute(
                select(DailyTotal.metric, DailyTotal.day, DailyTotal.tier_id, DailyTotal.detail, DailyTotal.value)
                .where(DailyTotal.day >= rolled.first, DailyTotal.day <= rolled.last)):
            self._days[metric][tuple(key)] += total

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
        # Members counted once: today up to the five-minute cut as written then, if the snapshot is
        # yesterday's (the windows it was counted for), and live from the cut on; else all live.
        self._cut = live.rolled_until(today()) if self.day == today() - timedelta(days=1) else None
        self._so_far: dict | None = None  # read on the first window asked for (the tier page asks none)
        self._live_since = self._cut or start_of_day(self.after.period.first)
        self._counted: dict[str, dict[str, Counter]] = {}

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
        if detail not in self._counted:  # a window's counts: one statement
            self._counted[detail] = counted_after(
                self._live_since, start_of_day(self.after.period.last + timedelta(days=1)),
                self._window_first(detail), detail)
        if self._so_far is None:
            self._so_far = so_far(today()) if self._cut else defaultdict(Counter)
        return counted + self._so_far[(metric, detail)] + self._counted[detail][metric]

    def _window_first(self, detail: str) -> date:
        return windows(self.day or today() - timedelta(days=1))[detail].first
