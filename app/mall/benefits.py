"""Tier benefits to claim (权益领取): granted per period, claimed by the member, or expired.

Configuration lives in each tier's `benefits` JSON, one coupon pack per benefit:
  "monthly_coupons":  [{"template_id": 3, "count": 2}]   granted on the 1st (local) for the month
  "birthday_coupons": [{"template_id": 4, "count": 1}]   granted in the birthday month
  "upgrade_coupons":  [{"template_id": 5, "count": 1}]   granted on reaching the tier
The packs are the mall's: it grants the upgrade pack on `member.tier_changed` and issues
the coupons of a claim; the tiers (app/members) know nothing of coupons.
Rules chosen:
- A grant is unique per (member, benefit, period): monthly "YYYY-MM", birthday "YYYY",
  upgrade "tier-<id>" (once per tier ever, so falling and climbing back gives nothing
  twice). Grants are multi-row INSERTs ignoring conflicts: run twice = once, and only the
  new rows get a `benefit_claimable` event. The grant keeps the pack it was granted with.
- Monthly and birthday grants go to the member's tier at the time of the run and can be
  claimed until the month ends (local). The birthday benefit is by month, so a member
  born on 29 February gets it in February every year, leap or not. A jump over several
  tiers grants the pack of the tier reached only. An upgrade pack can be claimed for
  BENEFIT_UPGRADE_CLAIM_DAYS days counting the day it was granted.
- Claiming takes the member's row lock, moves the grant claimable → claimed with a guarded
  UPDATE and issues the coupons with app/mall/coupons.py `issue_to_locked_member` (its limits
  apply: if one fails the whole claim rolls back and stays claimable). Claiming a claimed
  grant again answers with the same coupons (idempotent).
- Unclaimed grants past their end are expired by a sweep; BENEFIT_EXPIRY_REMINDER_DAYS
  (default 3) before the last day, one `benefit_expiring` event per grant.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, extract, func, select, update

from app import clock
from app.batches import Batches
from app.clock import local_date, now, start_of_day, today
from app.db_helpers import insert_many_ignoring_conflict
from app.errors import AppError, CouponError, invalid_field
from app.extensions import db
from app.mall import coupons
from app.mall.benefit_models import (
    BIRTHDAY,
    CLAIMABLE,
    CLAIMED,
    EXPIRED,
    MONTHLY,
    UPGRADE,
    BenefitGrant,
)
from app.mall.models import Coupon, CouponTemplate
from app.member_row import Member, Tier, lock_member
from app.members.benefit_keys import COUPON_PACKS
from app.members.models import TierChange
from app.messaging.countdown import remind_ending
from app.messaging.kinds import EventKind
from app.messaging.service import record_events

CLAIMABLE_KIND, EXPIRING_KIND = EventKind.BENEFIT_CLAIMABLE, EventKind.BENEFIT_EXPIRING
NAMES = {MONTHLY: "每月礼券", BIRTHDAY: "生日礼", UPGRADE: "升级礼包"}
BATCH = 1000


def check_coupon_packs(tier: Tier) -> None:
    """`tier.saved`: every template the tier's packs name exists (template 999 would fail each claim)."""
    for key in COUPON_PACKS:
        ids = {entry["template_id"] for entry in (tier.benefits or {}).get(key) or []}
        if not ids:
            continue
        missing = ids - set(db.session.execute(select(CouponTemplate.id).where(CouponTemplate.id.in_(ids))).scalars())
        if missing:
            raise invalid_field(f"benefits.{key}", f"优惠券模板不存在：{', '.join(map(str, sorted(missing)))}")


def coupon_pack(tier: Tier, benefit: str) -> list[dict]:
    return [{"template_id": int(entry["template_id"]), "count": int(entry.get("count", 1))}
            for entry in (tier.benefits or {}).get(f"{benefit}_coupons") or []]


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def last_day(grant: BenefitGrant) -> date:
    return clock.last_day(grant.expires_at)


# --- granting ----------------------------------------------------------------------------


def _grant(benefit: str, period: str, tier: Tier, member_ids, expires_at: datetime) -> int:
    at, pack = now(), coupon_pack(tier, benefit)
    won = insert_many_ignoring_conflict(BenefitGrant, [
        {"member_id": member_id, "benefit": benefit, "period": period, "tier_id": tier.id, "coupons": pack,
         "state": CLAIMABLE, "granted_at": at, "expires_at": expires_at} for member_id in member_ids],
        ["member_id", "benefit", "period"], returning=[BenefitGrant.member_id])
    payload = {"benefit": NAMES[benefit], "tier": tier.name,
               "expires_on": clock.last_day(expires_at).isoformat()}
    return len(record_events(CLAIMABLE_KIND, [(row.member_id, payload) for row in won]))


def _grant_to_tiers(benefit: str, period: str, expires_at: datetime, *where) -> Batches:
    """Grant the benefit to the members of every tier that has it (a sweep: app/batches.py)."""
    granted = 0
    for tier in db.session.execute(select(Tier).order_by(Tier.level)).scalars().all():
        if not coupon_pack(tier, benefit):
            continue
        cursor = 0
        while ids := db.session.execute(
                select(Member.id).where(Member.tier_id == tier.id, Member.id > cursor, *where)
                .order_by(Member.id).limit(BATCH)).scalars().all():
            cursor = ids[-1]
            granted += _grant(benefit, period, tier, ids, expires_at)
            yield
    return {"granted": granted}


def grant_monthly() -> Batches:
    """This month's coupon pack to every member of a tier that has one (the job on the 1st)."""
    day = today()
    return _grant_to_tiers(MONTHLY, f"{day:%Y-%m}", start_of_day(_next_month(day)))


def grant_birthdays() -> Batches:
    """The birthday pack to members born in this month (daily: a birthday set later still counts)."""
    day = today()
    return _grant_to_tiers(BIRTHDAY, str(day.year), start_of_day(_next_month(day)),
                           extract("month", Member.birthday) == day.month)


def on_tier_changed(member: Member, change: TierChange) -> None:
    """The upgrade pack of the tier reached, in the upgrade's transaction."""
    tier = member.tier
    if change.to_tier_id != tier.id or not coupon_pack(tier, UPGRADE):
        return
    if db.session.get(Tier, change.from_tier_id).level >= tier.level:
        return
    days = current_app.config["BENEFIT_UPGRADE_CLAIM_DAYS"]
    expires_at = start_of_day(local_date(change.created_at) + timedelta(days=days))
    _grant(UPGRADE, f"tier-{tier.id}", tier, [member.id], expires_at)


# --- the member's side -------------------------------------------------------------------


@dataclass(frozen=True)
class Entitlement:
    grant: BenefitGrant
    name: str
    state: str  # a claimable grant past its end reads expired before the sweep records it
    expires_on: date
    days_left: int | None  # claimable only: 0 on the last day
    coupons: list[dict]  # {"template_id", "name", "value", "count"}


def _entitlements(grants: list[BenefitGrant]) -> list[Entitlement]:
    at, day = now(), today()
    template_ids = {entry["template_id"] for grant in grants for entry in grant.coupons}
    templates = {template.id: template for template in db.session.execute(
        select(coupons.CouponTemplate).where(coupons.CouponTemplate.id.in_(template_ids))).scalars()}
    result = []
    for grant in grants:
        state = EXPIRED if grant.state == CLAIMABLE and grant.expires_at <= at else grant.state
        result.append(Entitlement(
            grant, NAMES[grant.benefit], state, last_day(grant),
            (last_day(grant) - day).days if state == CLAIMABLE else None,
            [{"template_id": entry["template_id"], "name": templates[entry["template_id"]].name,
              "value": coupons.describe(templates[entry["template_id"]]), "count": entry["count"]}
             for entry in grant.coupons if entry["template_id"] in templates]))
    return result


def member_benefits(member_id: int, limit: int = 50) -> list[Entitlement]:
    """Claimable ones first (soonest ending first), then the rest newest first."""
    live = (BenefitGrant.state == CLAIMABLE) & (BenefitGrant.expires_at > now())
    mine = select(BenefitGrant).where(BenefitGrant.member_id == member_id)
    claimable = db.session.execute(mine.where(live).order_by(BenefitGrant.expires_at, BenefitGrant.id)).scalars()
    rest = db.session.execute(mine.where(~live).order_by(BenefitGrant.id.desc()).limit(limit)).scalars()
    return _entitlements([*claimable, *rest])


@dataclass(frozen=True)
class Claimed:
    entitlement: Entitlement
    coupons: list[Coupon]


def claim(member_id: int, grant_id: int) -> Claimed:
    """Claim a benefit: its coupons are issued once, however often or concurrently it is claimed."""
    lock_member(member_id)
    grant = db.session.execute(select(BenefitGrant).where(BenefitGrant.id == grant_id)
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    if grant is None or grant.member_id != member_id:
        raise AppError(CouponError.BENEFIT_NOT_FOUND)
    if grant.state != CLAIMED:
        at = now()
        moved = db.session.execute(
            update(BenefitGrant).where(BenefitGrant.id == grant.id, BenefitGrant.state == CLAIMABLE,
                                       BenefitGrant.expires_at > at)
            .values(state=CLAIMED, claimed_at=at).execution_options(synchronize_session=False)).rowcount == 1
        if not moved:
            raise AppError(CouponError.BENEFIT_EXPIRED, details={"expires_on": last_day(grant).isoformat()})
        grant.state, grant.claimed_at = CLAIMED, at
        for entry in grant.coupons:
            template = coupons.get_template(entry["template_id"])
            for _ in range(entry["count"]):
                coupons.issue_to_locked_member(template, member_id, "benefit", actor=f"member:{member_id}",
                                            ref=_ref(grant))
        db.session.flush()
    issued = db.session.execute(select(Coupon).where(Coupon.member_id == member_id, Coupon.source == "benefit",
                                                     Coupon.source_ref == _ref(grant)).order_by(Coupon.id))
    return Claimed(_entitlements([grant])[0], list(issued.scalars()))


def _ref(grant: BenefitGrant) -> str:
    return f"benefit:{grant.id}"


# --- the sweep, the reminders, the numbers -----------------------------------------------


def expire_unclaimed() -> dict:
    """Record the expiry of every unclaimed grant past its end, in one statement; idempotent."""
    expired = db.session.execute(
        update(BenefitGrant).where(BenefitGrant.state == CLAIMABLE, BenefitGrant.expires_at <= now())
        .values(state=EXPIRED).execution_options(synchronize_session=False)).rowcount
    return {"expired": expired}


def remind_expiring() -> Batches:
    """One `benefit_expiring` event per unclaimed grant within the reminder window (a sweep)."""
    return remind_ending(EXPIRING_KIND, BenefitGrant, BenefitGrant.expires_at,
                         current_app.config["BENEFIT_EXPIRY_REMINDER_DAYS"], BenefitGrant.state == CLAIMABLE,
                         _expiring_payload)


def _expiring_payload(grant: BenefitGrant, day: date) -> dict:
    return {"grant_id": grant.id, "benefit": NAMES[grant.benefit], "expires_on": last_day(grant).isoformat(),
            "days_left": (last_day(grant) - day).days}


def claim_rates(benefit: str | None = None) -> list[dict]:
    """Per benefit and period: granted, claimed, expired (recorded or due) and the claim rate."""
    stmt = (select(BenefitGrant.benefit, BenefitGrant.period, func.count(),
                   func.sum(case((BenefitGrant.state == CLAIMED, 1), else_=0)),
                   func.sum(case((BenefitGrant.state == EXPIRED, 1),
                                 (and_(BenefitGrant.state == CLAIMABLE, BenefitGrant.expires_at <= now()), 1),
                                 else_=0)))
            .group_by(BenefitGrant.benefit, BenefitGrant.period)
            .order_by(BenefitGrant.benefit, BenefitGrant.period.desc()))
    if benefit is not None:
        stmt = stmt.where(BenefitGrant.benefit == benefit)
    return [{"benefit": kind, "period": period, "granted": granted, "claimed": int(claimed),
             "expired": int(expired), "claim_rate": round(int(claimed) / granted, 4)}
            for kind, period, granted, claimed, expired in db.session.execute(stmt)]
