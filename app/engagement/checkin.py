"""Daily check-in (签到), streak rewards, makeup check-in (补签) and the month calendar.

Rules (the settings in app/engagement/settings.CheckinRules, the rest decided here):
- The day is the business day (app.clock.today(), zone BUSINESS_TZ). One row per member
  and day (unique constraint); every write first takes the member's row lock, so double
  taps and concurrent requests serialize: one check-in, one reward, the rest 409.
- A checked day pays the daily reward. A made-up day pays it too (it counts as checked)
  after its cost: `makeup_cost_points` points, or one makeup card (from task rewards).
- Streak rewards are paid when a run of consecutive days reaches a milestone (see
  streaks.py for cycles), each under a key naming the run's first day and the position.
  A makeup that fills a gap joins two runs: the milestones the joined run reaches from
  the filled day on are due, less those its later part was already paid for, so each
  reward becomes due once and nothing paid before is taken back.
- The tier multiplier applies to daily and streak points when the member's tier has the
  benefit flag `checkin_multiplier` (see rewards.multiplied); growth is never multiplied.
- Makeup: only a day before today (MAKEUP_FUTURE_DAY), not before the business day the
  member joined (MAKEUP_BEFORE_JOINING), within the last `makeup_window_days` days
  (MAKEUP_BEYOND_WINDOW), not a checked day (CHECKIN_ALREADY_DONE), at most
  `makeup_monthly_quota` makeups recorded in the current business month
  (MAKEUP_QUOTA_EXCEEDED).
- `checkin.recorded(member, checkin)` is emitted for check-ins and makeups alike.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.clock import local_date, now, today
from app.db_helpers import insert_ignoring_conflict, newest_first
from app.engagement import streaks
from app.engagement.models import CHECKIN, MAKEUP, Checkin, MakeupCard, StreakReward
from app.engagement.rewards import Reward, multiplied, pay
from app.engagement.settings import CheckinRules, Milestone, load
from app.errors import AppError, EngagementError
from app.events import emit
from app.extensions import db
from app.member_row import Member, lock_member
from app.points import service as ledger

PAY_WITH_POINTS, PAY_WITH_CARD = "points", "card"


@dataclass(frozen=True)
class CheckedIn:
    checkin: Checkin
    streak: int  # the member's current streak after this check-in
    streak_rewards: list[StreakReward]


def check_in(member_id: int) -> CheckedIn:
    member = lock_member(member_id)
    return _record(member, load(CheckinRules), today(), CHECKIN)


def make_up(member_id: int, day: date, pay_with: str = PAY_WITH_POINTS) -> CheckedIn:
    rules = load(CheckinRules)
    member = lock_member(member_id)
    current = today()
    if day >= current:
        raise AppError(EngagementError.MAKEUP_FUTURE_DAY)
    if day < joined_on(member):
        raise AppError(EngagementError.MAKEUP_BEFORE_JOINING, details={"joined_on": joined_on(member).isoformat()})
    if day < current - timedelta(days=rules.makeup_window_days):
        raise AppError(EngagementError.MAKEUP_BEYOND_WINDOW, details={"window_days": rules.makeup_window_days})
    if db.session.execute(select(Checkin.id).where(Checkin.member_id == member.id, Checkin.day == day)).first():
        raise AppError(EngagementError.CHECKIN_ALREADY_DONE, details={"day": day.isoformat()})
    if makeups_this_month(member.id, current) >= rules.makeup_monthly_quota:
        raise AppError(EngagementError.MAKEUP_QUOTA_EXCEEDED, details={"monthly_quota": rules.makeup_monthly_quota})
    _pay_for_makeup(member, rules, day, pay_with)
    return _record(member, rules, day, MAKEUP, paid_with=pay_with)


def joined_on(member: Member) -> date:
    return local_date(member.created_at)


def makeups_this_month(member_id: int, current: date) -> int:
    return db.session.execute(select(func.count()).select_from(Checkin).where(
        Checkin.member_id == member_id, Checkin.kind == MAKEUP, Checkin.recorded_on >= current.replace(day=1),
    )).scalar_one()


def makeup_cards_left(member_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(MakeupCard).where(
        MakeupCard.member_id == member_id, MakeupCard.used_at.is_(None))).scalar_one()


def run_length(member_id: int, day: date) -> int:
    """The length of the run of consecutive checked days through `day`."""
    start, end = streaks.run_around(_checked_days(member_id), day)
    return streaks.position(start, end)


def _checked_days(member_id: int) -> set[date]:
    return set(db.session.execute(select(Checkin.day).where(Checkin.member_id == member_id)).scalars())


def _pay_for_makeup(member: Member, rules: CheckinRules, day: date, pay_with: str) -> None:
    """Spend a card or the points; the member's lock is held, so no one spends the same card."""
    if pay_with == PAY_WITH_CARD:
        card = db.session.execute(select(MakeupCard).where(
            MakeupCard.member_id == member.id, MakeupCard.used_at.is_(None)).order_by(MakeupCard.id).limit(1)
        ).scalar_one_or_none()
        if card is None:
            raise AppError(EngagementError.MAKEUP_NO_CARD)
        card.used_at, card.used_for_day = now(), day
    elif rules.makeup_cost_points:
        posting = ledger.Posting(kind="checkin_makeup", key=f"checkin:makeup:{member.id}:{day.isoformat()}",
                                 ref=f"makeup:{day.isoformat()}")
        ledger.debit_points(member.id, rules.makeup_cost_points, posting)


def _record(member: Member, rules: CheckinRules, day: date, kind: str, paid_with: str | None = None) -> CheckedIn:
    daily = rules.daily.with_points(multiplied(rules.daily_points, member.tier))
    inserted = insert_ignoring_conflict(Checkin, {
        "member_id": member.id, "day": day, "kind": kind, "recorded_on": today(),
        "points": daily.points, "growth": daily.growth, "paid_with": paid_with,
    }, ["member_id", "day"])
    if not inserted:
        raise AppError(EngagementError.CHECKIN_ALREADY_DONE, details={"day": day.isoformat()})
    checkin = db.session.execute(
        select(Checkin).where(Checkin.member_id == member.id, Checkin.day == day)).scalar_one()
    pay(member.id, daily, kind="checkin", key=f"checkin:{checkin.id}", ref=f"checkin:{checkin.id}")
    days = _checked_days(member.id)
    rewards = _settle_streak(member, rules, days, day)
    emit("checkin.recorded", member=member, checkin=checkin)
    return CheckedIn(checkin, streaks.current_streak(days, today()), rewards)


def _settle_streak(member: Member, rules: CheckinRules, days: set[date], day: date) -> list[StreakReward]:
    """Pay the milestones the run through `day` reaches from `day` on, not paid yet."""
    start, end = streaks.run_around(days, day)
    length, first = streaks.position(start, end), streaks.position(start, day)
    paid = Counter(db.session.execute(select(StreakReward.milestone).where(
        StreakReward.member_id == member.id, StreakReward.reached_on.between(day, end))).scalars())
    new = []
    for milestone in rules.milestones().values():
        due = [p for p in streaks.positions_reaching(milestone.day, length, rules.cycle_days) if p >= first]
        new += [_pay_streak(member, start, p, milestone) for p in due[paid[milestone.day]:]]
    return new


def _pay_streak(member: Member, start: date, position: int, milestone: Milestone) -> StreakReward:
    reward = Reward(multiplied(milestone.points, member.tier), milestone.growth)
    row = StreakReward(member_id=member.id, run_start=start, position=position, milestone=milestone.day,
                       reached_on=start + timedelta(days=position - 1), points=reward.points, growth=reward.growth)
    db.session.add(row)
    db.session.flush()
    pay(member.id, reward, kind="checkin_streak", key=f"checkin:streak:{member.id}:{start.isoformat()}:{position}",
        ref=f"checkin_streak:{row.id}")
    return row


def calendar(member: Member, month: date) -> dict:
    """The month as the mini-program draws it, with the streak and the next reward."""
    rules = load(CheckinRules)
    current, joined = today(), joined_on(member)
    days = _checked_days(member.id)
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    kinds = dict(db.session.execute(select(Checkin.day, Checkin.kind).where(
        Checkin.member_id == member.id, Checkin.day >= first, Checkin.day < following)).all())
    used = makeups_this_month(member.id, current)
    makeup_open = used < rules.makeup_monthly_quota
    window_start = current - timedelta(days=rules.makeup_window_days)
    entries = []
    for offset in range((following - first).days):
        day = first + timedelta(days=offset)
        state = _day_state(day, kinds.get(day), current, joined)
        entries.append({"day": day, "state": state,
                        "can_make_up": state == "missed" and day >= window_start and makeup_open})
    streak = streaks.current_streak(days, current)
    return {
        "month": f"{first:%Y-%m}",
        "today": {"day": current, "checked": current in days},
        "days": entries,
        "streak": streak,
        "next_reward": _next_reward(member, rules, streak),
        "makeup": {
            "window_days": rules.makeup_window_days, "cost_points": rules.makeup_cost_points,
            "monthly_quota": rules.makeup_monthly_quota, "used_this_month": used,
            "cards": makeup_cards_left(member.id),
        },
    }


def _day_state(day: date, kind: str | None, current: date, joined: date) -> str:
    if kind is not None:
        return "checked" if kind == CHECKIN else "made_up"
    if day > current:
        return "future"
    if day == current:
        return "today"
    return "before_joining" if day < joined else "missed"


def _next_reward(member: Member, rules: CheckinRules, streak: int) -> dict | None:
    milestones = rules.milestones()
    upcoming = streaks.next_milestone(milestones, streak, rules.cycle_days)
    if upcoming is None:
        return None
    position, day = upcoming
    milestone = milestones[day]
    return {"streak_day": position, "milestone": day, "days_to_go": position - streak,
            "points": multiplied(milestone.points, member.tier), "growth": milestone.growth}


def checkins_page(member_id: int, before_id: int | None, limit: int) -> list[Checkin]:
    """The member's check-ins and makeups, newest recorded first."""
    return newest_first(Checkin, before_id, limit, member_id=member_id)
