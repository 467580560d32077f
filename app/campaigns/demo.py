"""Demo layers and campaigns for `make run`: a finished campaign from two months back, today's
RFM run, two segments, a launched campaign with a holdout that has reached its members, and the
churn recall turned on."""
from datetime import timedelta

from app.batches import run_batches
from app.campaigns import launch, service
from app.clock import now
from app.layers import rfm, segments
from app.members.tiers import entry_tier


def load_finished_campaign() -> None:
    """Run by the history two months before today: an RFM run, then 30 points for the 潜力 members
    of the entry tier, a fifth held out. Its 30 days of response ended a month ago: its results
    compare what the history's members bought since, campaign group against holdout."""
    rfm.compute_layers()
    potential = segments.create_segment("普通卡潜力会员", {"layers": ["potential"], "tier_ids": [entry_tier().id]},
                                        actor="demo")
    campaign = service.create_campaign(actor="demo", name="潜力会员促活：赠 30 积分", segment_id=potential.id,
                                       points=30, send_message=False, starts_at=now() - timedelta(minutes=1),
                                       holdout_pct=20, response_days=30)
    service.launch(campaign.id, actor="demo")
    run_batches(launch.run_due())


def load_campaigns_demo() -> None:
    rfm.compute_layers()
    everyone = segments.create_segment("全部会员", {}, actor="demo")
    at_risk = segments.create_segment("流失预警会员", {"layers": ["at_risk"]}, actor="demo")
    starts = now() - timedelta(minutes=1)
    thanks = service.create_campaign(actor="demo", name="会员回馈：赠 20 积分", segment_id=everyone.id, points=20,
                                     send_message=True, starts_at=starts, holdout_pct=20, response_days=14)
    service.launch(thanks.id, actor="demo")
    recall = service.create_campaign(actor="demo", name="流失召回：赠 50 积分", segment_id=at_risk.id, points=50,
                                     send_message=True, starts_at=starts, holdout_pct=10, response_days=30,
                                     recall=True)
    service.launch(recall.id, actor="demo")
    service.set_recall(recall.id, True, actor="demo")
    run_batches(launch.run_due())
