"""Demo layers and campaigns for `make run`: an RFM run, two segments, a launched campaign with
a holdout that has reached its members, and the churn recall turned on."""
from datetime import timedelta

from app.batches import run_batches
from app.campaigns import launch, service
from app.clock import now
from app.layers import rfm, segments


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
