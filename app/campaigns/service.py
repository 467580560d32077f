"""Campaigns as operators define, preview and launch them. The launch itself: launch.py."""
from dataclasses import dataclass

from sqlalchemy import func, select

from app.campaigns.holdout import held_out
from app.campaigns.models import Campaign, RecallSetting
from app.clock import now
from app.db_helpers import newest_first
from app.errors import AppError, CampaignError, invalid_field
from app.extensions import db
from app.layers import segments
from app.layers.models import MemberLayer
from app.mall.coupons import get_template
from app.member_row import Member

DRY_RUN_SAMPLE = 20


def create_campaign(actor: str | None, **fields) -> Campaign:
    segments.get_segment(fields["segment_id"])
    if fields.get("coupon_template_id") is not None:
        get_template(fields["coupon_template_id"])
    if fields.get("coupon_template_id") is None and not fields.get("points") and not fields.get("send_message"):
        raise invalid_field("coupon_template_id", "至少选择一项动作：优惠券、积分或订阅消息")
    campaign = Campaign(created_by=actor, **fields)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise AppError(CampaignError.CAMPAIGN_NOT_FOUND)
    return campaign


def campaigns_page(before_id: int | None, limit: int) -> list[Campaign]:
    return newest_first(Campaign, before_id, limit)


def audience(campaign: Campaign):
    """SELECT of the segment's member ids, now."""
    return segments.members_matching(segments.get_segment(campaign.segment_id).conditions)


@dataclass
class Preview:
    members: int
    target: int
    holdout: int
    sample: list[dict]


def preview(campaign_id: int, sample: bool = False) -> Preview:
    """How the segment splits now (exactly: each member's draw), and with `sample` a random few
    of them with their group and layer: the dry run. Ids stream from the database; the
    filtering is the segment's SQL."""
    campaign = get_campaign(campaign_id)
    ids = db.session.execute(audience(campaign).order_by(Member.id).execution_options(yield_per=5000)).scalars()
    held = total = 0
    for member_id in ids:
        total += 1
        held += held_out(campaign.id, member_id, campaign.holdout_pct)
    rows = []
    if sample:
        picked = select(Member.id, Member.nickname, Member.tier_id, MemberLayer.layer).outerjoin(
            MemberLayer, MemberLayer.member_id == Member.id).where(Member.id.in_(audience(campaign)))
        found = db.session.execute(picked.order_by(func.random()).limit(DRY_RUN_SAMPLE)).all()
        rows = [{"member_id": row.id, "nickname": row.nickname, "tier_id": row.tier_id, "layer": row.layer,
                 "holdout": held_out(campaign.id, row.id, campaign.holdout_pct)}
                for row in sorted(found, key=lambda row: row.id)]
    return Preview(total, total - held, held, rows)


def launch(campaign_id: int, actor: str | None) -> Campaign:
    """Mark the campaign launched, once, under its row lock: twice, or two operators at once,
    launch it once. The launch job (launch.py) does the work from its start time."""
    campaign = db.session.execute(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update()).scalar_one_or_none()
    if campaign is None:
        raise AppError(CampaignError.CAMPAIGN_NOT_FOUND)
    if campaign.launched_at is None:
        campaign.launched_at, campaign.launched_by = now(), actor
        db.session.flush()
    return campaign


def recall_setting() -> RecallSetting:
    return db.session.get(RecallSetting, 1) or RecallSetting(id=1, enabled=False, updated_at=now())


def set_recall(campaign_id: int | None, enabled: bool, actor: str | None) -> RecallSetting:
    """Turn the churn recall on or off, naming its campaign."""
    if campaign_id is not None and not get_campaign(campaign_id).recall:
        raise invalid_field("campaign_id", "须为流失召回活动（recall）")
    if campaign_id is None and enabled:
        raise invalid_field("campaign_id", "开启流失召回须指定活动")
    setting = db.session.execute(select(RecallSetting).where(RecallSetting.id == 1).with_for_update()
                                 ).scalar_one_or_none() or RecallSetting(id=1)
    setting.campaign_id, setting.enabled, setting.updated_by, setting.updated_at = campaign_id, enabled, actor, now()
    db.session.add(setting)
    db.session.flush()
    return setting
