"""The churn recall: after an RFM run, members who moved into 流失预警 join the configured
campaign (those of them in its segment), when the operator turned it on. The launch job
then reaches them like any launched campaign's members, its holdout included, so the
recall's effect is measured too; a member is enrolled in it once, ever."""
from app.batches import Batches
from app.campaigns.launch import enroll
from app.campaigns.models import Campaign
from app.campaigns.service import audience, recall_setting
from app.extensions import db
from app.layers.rfm import entered_at_risk_today
from app.member_row import Member


def enroll_entrants() -> Batches:
    """A sweep: {"recalled": members newly enrolled}."""
    setting = recall_setting()
    if not setting.enabled or setting.campaign_id is None:
        return {"recalled": 0}
    campaign = db.session.get(Campaign, setting.campaign_id)
    entrants = audience(campaign).where(Member.id.in_(entered_at_risk_today()))
    return {"recalled": (yield from enroll(campaign, entrants))}
