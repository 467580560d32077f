"""A campaign's results against its holdout, each figure one set-based query.

Both groups are counted as assigned (intention to treat): the campaign group includes
members whose coupon could not be issued, so a failed grant lowers the uplift instead of
hiding. A member responded when they made a purchase (net of refunds) from their
assignment to the end of their response window; spend is those purchases' net amount.
Uplift: campaign rate − holdout rate (absolute, in shares) and that over the holdout rate
(relative; none while the holdout rate is 0).
"""
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from app.campaigns.models import CampaignMember
from app.campaigns.service import get_campaign
from app.clock import now
from app.extensions import db
from app.mall.models import USED, Coupon
from app.messaging.models import Message
from app.purchases.models import Purchase


@dataclass
class Group:
    members: int = 0
    buyers: int = 0
    spend_fen: int = 0

    @property
    def purchase_rate(self) -> float | None:
        return self.buyers / self.members if self.members else None

    @property
    def spend_per_member_fen(self) -> int | None:
        return self.spend_fen // self.members if self.members else None


def _uplift(target: float | None, holdout: float | None) -> tuple[float | None, float | None]:
    if target is None or holdout is None:
        return None, None
    return round(target - holdout, 4), (round((target - holdout) / holdout, 4) if holdout else None)


def results(campaign_id: int) -> dict:
    campaign = get_campaign(campaign_id)
    mine = CampaignMember.campaign_id == campaign.id
    groups = {True: Group(), False: Group()}
    for holdout, members in db.session.execute(
            select(CampaignMember.holdout, func.count()).where(mine).group_by(CampaignMember.holdout)):
        groups[bool(holdout)].members = members
    net = Purchase.amount_fen - Purchase.refunded_fen
    responses = (select(CampaignMember.holdout, CampaignMember.member_id, func.sum(net).label("spend"))
                 .join(Purchase, and_(Purchase.member_id == CampaignMember.member_id, net > 0,
                                      Purchase.created_at >= CampaignMember.assigned_at,
                                      Purchase.created_at < CampaignMember.respond_until))
                 .where(mine).group_by(CampaignMember.holdout, CampaignMember.member_id).subquery())
    for holdout, buyers, spend in db.session.execute(
            select(responses.c.holdout, func.count(), func.sum(responses.c.spend)).group_by(responses.c.holdout)):
        groups[bool(holdout)].buyers, groups[bool(holdout)].spend_fen = buyers, int(spend or 0)
    reached, issued, window_ends = db.session.execute(select(
        func.count(CampaignMember.reached_at), func.count(CampaignMember.coupon_id),
        func.max(CampaignMember.respond_until)).where(mine)).one()
    used = db.session.execute(select(func.count()).select_from(Coupon).where(
        Coupon.id.in_(select(CampaignMember.coupon_id).where(mine)), Coupon.state == USED)).scalar_one()
    messages = dict(db.session.execute(
        select(Message.status, func.count()).where(Message.event_id.in_(
            select(CampaignMember.event_id).where(mine, CampaignMember.event_id.is_not(None))))
        .group_by(Message.status)).all())
    target, holdout = groups[False], groups[True]
    absolute, relative = _uplift(target.purchase_rate, holdout.purchase_rate)
    spend_absolute, spend_relative = _uplift(target.spend_per_member_fen, holdout.spend_per_member_fen)
    return {
        "campaign_id": campaign.id, "reached": reached, "coupons_issued": issued, "coupons_used": used,
        "messages": messages, "campaign_group": target, "holdout_group": holdout,
        "uplift": {"purchase_rate": absolute, "purchase_rate_relative": relative,
                   "spend_per_member_fen": spend_absolute, "spend_per_member_relative": spend_relative},
        "window_ends_at": window_ends, "final": window_ends is not None and window_ends <= now(),
    }
