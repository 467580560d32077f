"""Tier review (保级): a tier is held for a period, then kept or lowered on growth earned.

- A member reaching a tier holds it for TIER_HOLD_MONTHS (default 12) calendar months
  from `tier_since`, counted on business dates: reached on 31 January → reviewed on the
  last day of February; reached on 29 February → reviewed on 28 February next year.
  An upgrade in the meantime starts a new period (change_tier sets `tier_since`).
- At the review the member keeps the tier when the growth earned while holding it
  (entries after `tier_since` and before the review day, so not the growth that reached
  the tier) reaches the retention threshold: TIER_RETENTION_PCT (default 100) percent of
  the tier's own growth threshold. Kept → a new period starts on the review day.
  Otherwise the member falls one level (TIER_DOWNGRADE "one_level", the default) or to
  the tier the window's growth reaches ("earned": one level down at least, maybe more);
  the new tier's period starts on the review day.
- Growth is cumulative and decides upgrades, so a downgrade re-bases it: a ledger entry
  (kind "tier_review") lowers growth to the new tier's threshold. Otherwise the next
  purchase would lift the member straight back to the tier just lost.
- TIER_DOWNGRADE_WARNING_DAYS (default 30) before a review that would downgrade on the
  growth earned so far, one `tier_downgrade_warning` event per member and review date.
- The entry tier is never reviewed. Each review is one `tier_reviews` row, unique per
  (member, review date), written under the member's row lock: run twice, or in two
  processes at once, a review happens once. A batch locks its members with SKIP LOCKED and
  reviews the ones it skipped one at a time (the lock order, app/db_helpers.py).
"""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.batches import Batches
from app.clock import local_date, now, start_of_day, today
from app.db_helpers import insert_ignoring_conflict
from app.extensions import db
from app.member_row import Member, Tier, lock_member, lock_members
from app.members.models import TierReview
from app.members.tiers import change_tier, entry_tier, tier_for_growth
from app.messaging.kinds import EventKind
from app.messaging.reminders import remind_once
from app.points import service as ledger
from app.points.models import GROWTH, LedgerEntry

RETAINED, DOWNGRADED = "retained", "downgraded"
WARNING_KIND = EventKind.TIER_DOWNGRADE_WARNING


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day if it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_start_due(by: date, months: int) -> date:
    """The latest start day whose review falls on or before `by`."""
    start = add_months(by, -months)
    if by.day == calendar.monthrange(by.year, by.month)[1]:  # month end: shorter months' ends map here
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start


def review_date(tier_since: datetime) -> date:
    return add_months(local_date(tier_since), current_app.config["TIER_HOLD_MONTHS"])


@dataclass(frozen=True)
class _Verdict:
    due_on: date
    growth: int
    threshold: int
    keeps: bool
    falls_to: Tier


def _verdict(member: Member, ladder: list[Tier]) -> _Verdict:
    """What the review would decide on the growth earned from tier_since until its day."""
    config = current_app.config
    due_on = review_date(member.tier_since)
    growth = int(db.session.execute(
        select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
            LedgerEntry.member_id == member.id, LedgerEntry.account == GROWTH,
            LedgerEntry.created_at > member.tier_since, LedgerEntry.created_at < start_of_day(due_on))
    ).scalar_one())  # PostgreSQL sums BIGINT as NUMERIC
    threshold = member.tier.growth_threshold * config["TIER_RETENTION_PCT"] // 100
    below = max((tier for tier in ladder if tier.level < member.tier.level), key=lambda tier: tier.level,
                default=member.tier)
    falls_to = below
    if config["TIER_DOWNGRADE"] == "earned":
        earned = tier_for_growth(growth)
        falls_to = earned if earned.level < below.level else below
    return _Verdict(due_on, growth, threshold, growth >= threshold, falls_to)


def _held_tiers_since(before: datetime, after: datetime | None = None):
    """Members above the entry tier whose period started before `before` (and after `after`)."""
    stmt = select(Member.id).join(Tier, Tier.id == Member.tier_id).where(
        Tier.level > entry_tier().level, Member.tier_since < before)
    if after is not None:
        stmt = stmt.where(Member.tier_since >= after)
    return stmt


def review_due() -> Batches:
    """Review every member whose review day has come, in batches (a sweep: app/batches.py)."""
    day, batch = today(), current_app.config["TIER_REVIEW_BATCH"]
    months = current_app.config["TIER_HOLD_MONTHS"]
    due = _held_tiers_since(start_of_day(last_start_due(day, months) + timedelta(days=1)))
    counts = {RETAINED: 0, DOWNGRADED: 0}

    def review(member: Member, ladder: list[Tier]) -> None:
        if outcome := _review(member, ladder, day):
            counts[outcome] += 1

    cursor = 0
    while ids := db.session.execute(due.where(Member.id > cursor).order_by(Member.id).limit(batch)).scalars().all():
        cursor = ids[-1]
        ladder = list(db.session.execute(select(Tier)).scalars())
        # The batch skips members another transaction holds (a purchase in progress: waiting
        # for one while holding the batch could deadlock), then takes those one at a time.
        members = lock_members(ids, skip_locked=True)
        for member in members:
            review(member, ladder)
        yield
        for member_id in sorted(set(ids) - {member.id for member in members}):
            review(lock_member(member_id), ladder)
            yield
    return counts


def _review(member: Member, ladder: list[Tier], day: date) -> str | None:
    """Review one locked member if due; None if not due (any more) or already reviewed."""
    if member.tier.level == min(tier.level for tier in ladder):
        return None
    verdict = _verdict(member, ladder)
    if verdict.due_on > day:
        return None
    outcome = RETAINED if verdict.keeps else DOWNGRADED
    to_tier = member.tier if verdict.keeps else verdict.falls_to
    if not insert_ignoring_conflict(TierReview, {
        "member_id": member.id, "due_on": verdict.due_on, "from_tier_id": member.tier_id, "to_tier_id": to_tier.id,
        "window_growth": verdict.growth, "threshold": verdict.threshold, "outcome": outcome,
        "created_at": now(),
    }, ["member_id", "due_on"]):
        return None
    period_start = start_of_day(verdict.due_on)
    if verdict.keeps:
        member.tier_since = period_start
    else:
        _downgrade(member, to_tier, verdict, period_start)  # the lower tier is held from then
    db.session.flush()
    return outcome


def _downgrade(member: Member, to_tier: Tier, verdict: _Verdict, at: datetime) -> None:
    ref = f"tier_review:{member.id}:{verdict.due_on.isoformat()}"
    if member.growth > to_tier.growth_threshold:
        ledger.change_growth(member.id, to_tier.growth_threshold - member.growth,
                             ledger.Posting(kind="tier_review", key=ref, ref=ref))
    change_tier(member, to_tier, "tier_review", ref, at,
                review_on=verdict.due_on.isoformat(), growth=verdict.growth, threshold=verdict.threshold)


def warn_upcoming() -> Batches:
    """Warn members whose review within TIER_DOWNGRADE_WARNING_DAYS would downgrade them (a sweep)."""
    config, day = current_app.config, today()
    months, ahead = config["TIER_HOLD_MONTHS"], config["TIER_DOWNGRADE_WARNING_DAYS"]
    upcoming = _held_tiers_since(
        before=start_of_day(last_start_due(day + timedelta(days=ahead), months) + timedelta(days=1)),
        after=start_of_day(last_start_due(day, months) + timedelta(days=1)))
    ladder = list(db.session.execute(select(Tier)).scalars())
    warned, cursor = 0, 0
    while ids := db.session.execute(
            upcoming.where(Member.id > cursor).order_by(Member.id).limit(config["TIER_REVIEW_BATCH"])
    ).scalars().all():
        cursor = ids[-1]
        due = {}
        for member in db.session.execute(select(Member).where(Member.id.in_(ids))).scalars():
            verdict = _verdict(member, ladder)
            if not verdict.keeps:
                due[(member.id, verdict.due_on.isoformat())] = {
                    "tier": member.tier.name, "falls_to": verdict.falls_to.name,
                    "review_on": verdict.due_on.isoformat(), "days_left": (verdict.due_on - day).days,
                    "growth": verdict.growth, "growth_needed": verdict.threshold - verdict.growth}
        warned += remind_once(WARNING_KIND, list(due), lambda member_id, key: due[(member_id, key)])
        yield
    return {"warned": warned}
