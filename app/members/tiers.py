"""Tiers are decided by growth (never by the points balance) and every change is recorded."""
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.db_helpers import newest_first
from app.errors import AppError, MemberError
from app.events import emit
from app.extensions import db
from app.member_row import Member, Tier
from app.members.benefit_keys import check_benefits
from app.members.models import TierChange
from app.messaging.kinds import EventKind
from app.messaging.service import record_event


def all_tiers() -> list[Tier]:
    return list(db.session.execute(select(Tier).order_by(Tier.level)).scalars())


def entry_tier() -> Tier:
    tier = db.session.execute(select(Tier).order_by(Tier.level).limit(1)).scalar_one_or_none()
    if tier is None:
        raise RuntimeError("no tiers configured: load demo data or create one with the admin API")
    return tier


def tier_for_growth(growth: int) -> Tier:
    """The highest tier whose threshold the growth reaches (the entry tier at least)."""
    tier = db.session.execute(
        select(Tier).where(Tier.growth_threshold <= growth).order_by(Tier.level.desc()).limit(1)
    ).scalar_one_or_none()
    return tier or entry_tier()


def level_above(level):
    """The next level up from `level` (a column or a value) as a scalar subquery; NULL at the top."""
    return select(func.min(Tier.level)).where(Tier.level > level).scalar_subquery()


def retier(member: Member, reason: str, ref: str | None = None, allow_downgrade: bool = False) -> TierChange | None:
    """Move the member to the tier their growth earns.

    Upgrades happen at once, across several levels if the growth allows. Downgrades only
    when the caller says so (a refund that takes back the growth that earned the tier);
    otherwise a tier is held until its review.
    """
    target = tier_for_growth(member.growth)
    current = member.tier
    if target.id == current.id or (target.level < current.level and not allow_downgrade):
        return None
    return change_tier(member, target, reason, ref)


def change_tier(member: Member, to_tier: Tier, reason: str, ref: str | None = None, at: datetime | None = None,
                **details) -> TierChange:
    """The one way a member's tier changes (growth, a refund, the review), in the caller's transaction:
    the TierChange, the outbox event for the push (with `details`), the new tier held from `at` (now by
    default), then `member.tier_changed` for its subscribers."""
    at = at or now()
    current = member.tier
    change = TierChange(member_id=member.id, from_tier_id=current.id, to_tier_id=to_tier.id,
                        reason=reason, ref=ref, created_at=at)
    member.tier = to_tier
    member.tier_since = at
    db.session.add(change)
    kind = EventKind.TIER_UPGRADED if to_tier.level > current.level else EventKind.TIER_DOWNGRADED
    record_event(kind, member.id, {"from": current.name, "to": to_tier.name, "reason": reason, **details})
    db.session.flush()
    emit("member.tier_changed", member=member, change=change)
    return change


def get_tier(tier_id: int) -> Tier:
    tier = db.session.get(Tier, tier_id)
    if tier is None:
        raise AppError(MemberError.TIER_NOT_FOUND)
    return tier


def create_tier(**fields) -> Tier:
    tier = Tier(**fields)
    db.session.add(tier)
    return _saved(tier)


def update_tier(tier_id: int, **fields) -> Tier:
    tier = get_tier(tier_id)
    for name, value in fields.items():
        setattr(tier, name, value)
    return _saved(tier)


def _saved(tier: Tier) -> Tier:
    """The tier as it is left, checked: its benefits, the ladder, then `tier.saved` (the mall checks
    that its coupon packs name existing templates)."""
    check_benefits(tier.benefits or {})
    _check_ladder()
    emit("tier.saved", tier=tier)
    return tier


def _check_ladder() -> None:
    """Levels and thresholds rise together, the entry tier needs no growth, all unique."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise AppError(MemberError.TIER_CONFLICT) from None
    ladder = all_tiers()
    thresholds = [tier.growth_threshold for tier in ladder]
    if thresholds[0] != 0 or thresholds != sorted(set(thresholds)):
        raise AppError(MemberError.TIER_CONFLICT, details={"thresholds_by_level": thresholds})


def tier_changes_page(member_id: int, before_id: int | None, limit: int) -> list[TierChange]:
    """The member's tier history (from, to, why, when), newest first."""
    return newest_first(TierChange, before_id, limit, member_id=member_id)

