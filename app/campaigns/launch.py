"""The launch job: every launched campaign past its start time, in bounded batches (a sweep,
app/batches.py), resumable after a crash and harmless twice.

1. Assign: the segment's members, by ascending id from the last one assigned, each a row
   unique per (campaign, member) in its group (holdout.py), inserted ON CONFLICT DO NOTHING;
   the response window starts here for both groups alike. Then `assigned_at` is set: the
   audience is the segment as of the launch, and nobody joins later (except by the recall).
2. Reach: the pending rows of the campaign group, a batch at a time: their members locked
   first (SKIP LOCKED; the skipped ones after, one at a time), then a guarded
   pending → reached update, and only the rows it moved get the coupon, the points (a ledger
   posting with its once-only key) and the campaign_reached outbox event. A twin job finds
   them reached and does nothing.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, func, select, update

from app.batches import Batches
from app.campaigns.holdout import held_out
from app.campaigns.models import HELD_OUT, PENDING, REACHED, Campaign, CampaignMember
from app.campaigns.service import audience
from app.clock import now
from app.db_helpers import insert_many_ignoring_conflict
from app.errors import AppError
from app.extensions import db
from app.mall.coupons import get_template, issue_to_locked_member
from app.member_row import Member, lock_member, lock_members
from app.messaging.kinds import EventKind
from app.messaging.service import record_event
from app.points.service import Posting, credit_points


def run_due() -> Batches:
    """Assign and reach every due campaign: counts of members assigned and reached."""
    counts = {"assigned": 0, "reached": 0}
    batch = current_app.config["CAMPAIGN_BATCH"]
    has_pending = exists().where(CampaignMember.campaign_id == Campaign.id, CampaignMember.state == PENDING)
    due = db.session.execute(select(Campaign.id).where(
        Campaign.launched_at.is_not(None), Campaign.starts_at <= now(),
        Campaign.assigned_at.is_(None) | has_pending).order_by(Campaign.id)).scalars().all()
    for campaign_id in due:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign.assigned_at is None and not campaign.recall:
            last = db.session.execute(select(func.max(CampaignMember.member_id))  # resume after a crash
                                      .where(CampaignMember.campaign_id == campaign.id)).scalar_one()
            counts["assigned"] += yield from _assign(campaign, audience(campaign), batch, after=last or 0)
        if campaign.assigned_at is None:
            db.session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.assigned_at.is_(None))
                               .values(assigned_at=now()))
            yield
        counts["reached"] += yield from _reach(campaign, batch)
    return counts


def enroll(campaign: Campaign, member_ids) -> Batches:
    """Add members (a SELECT of ids) to a campaign in batches, those already in it left out:
    how many were new to it."""
    newcomers = member_ids.where(~exists().where(CampaignMember.campaign_id == campaign.id,
                                                 CampaignMember.member_id == Member.id))
    return _assign(campaign, newcomers, current_app.config["CAMPAIGN_BATCH"], after=0)


def _assign(campaign: Campaign, member_ids, batch: int, after: int) -> Batches:
    """Rows for the members of `member_ids` past the id `after`, a batch at a time: how many were added."""
    added, last = 0, after
    while True:
        ids = db.session.execute(member_ids.where(Member.id > last).order_by(Member.id).limit(batch)).scalars().all()
        if not ids:
            return added
        at = now()
        rows = []
        for member_id in ids:
            holdout = held_out(campaign.id, member_id, campaign.holdout_pct)
            rows.append({"campaign_id": campaign.id, "member_id": member_id, "holdout": holdout,
                         "state": HELD_OUT if holdout else PENDING, "assigned_at": at,
                         "respond_until": at + timedelta(days=campaign.response_days)})
        added += len(insert_many_ignoring_conflict(CampaignMember, rows, ["campaign_id", "member_id"],
                                                   returning=[CampaignMember.id]))
        yield
        last = ids[-1]


def _reach(campaign: Campaign, batch: int) -> Batches:
    reached = 0
    while True:
        ids = db.session.execute(select(CampaignMember.member_id).where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.state == PENDING)
            .order_by(CampaignMember.member_id).limit(batch)).scalars().all()
        if not ids:
            return reached
        locked = [member.id for member in lock_members(ids, skip_locked=True)]
        reached += _reach_locked(campaign, locked)
        yield
        for member_id in sorted(set(ids) - set(locked)):  # held elsewhere: wait for each, alone
            lock_member(member_id)
            reached += _reach_locked(campaign, [member_id])
            yield


def _reach_locked(campaign: Campaign, member_ids: list[int]) -> int:
    """Grant the action to those of `member_ids` (locked) still pending: how many."""
    if not member_ids:
        return 0
    at = now()
    moved = db.session.execute(
        update(CampaignMember).where(CampaignMember.campaign_id == campaign.id,
                                     CampaignMember.member_id.in_(member_ids), CampaignMember.state == PENDING)
        .values(state=REACHED, reached_at=at).returning(CampaignMember.id, CampaignMember.member_id)
        .execution_options(synchronize_session=False)).all()
    template = get_template(campaign.coupon_template_id) if campaign.coupon_template_id else None
    outcomes = [_grant(campaign, template, row.member_id) | {"id": row.id} for row in moved]
    if outcomes:
        db.session.execute(update(CampaignMember), outcomes)
    return len(moved)


def _grant(campaign: Campaign, template, member_id: int) -> dict:
    ref = f"campaign:{campaign.id}"
    outcome = {"coupon_id": None, "coupon_error": None, "event_id": None}
    if template is not None:
        try:
            outcome["coupon_id"] = issue_to_locked_member(template, member_id, "campaign", ref, ref=ref).id
        except AppError as refused:  # closed, sold out, the member's limit: reached without it
            outcome["coupon_error"] = refused.code
    if campaign.points:
        credit_points(member_id, campaign.points, Posting(kind="campaign", key=f"{ref}:member:{member_id}",
                                                          ref=ref, actor=ref, reason=campaign.name))
    if campaign.send_message:
        outcome["event_id"] = record_event(EventKind.CAMPAIGN_REACHED, member_id, {
            "campaign": campaign.name, "points": campaign.points or 0,
            "coupon": template.name if template is not None and outcome["coupon_id"] else ""})
    return outcome
