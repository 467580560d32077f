"""`make run`'s demo data goes through the real services, so it obeys their rules (the lock
order included) and leaves ledgers that balance; it spans six months, so the console has a
living programme to show."""
from datetime import timedelta

from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.campaigns.results import results
from app.clock import local_date, start_of_day, today
from app.extensions import db
from app.layers.models import MemberLayer
from app.mall.models import Coupon
from app.member_row import Member, Tier
from app.members.models import TierChange
from app.points.models import LedgerEntry
from app.purchases.models import Purchase
from app.tasks.models import JobRun
from tests.helpers import Caller, assert_ledger_consistent
from tests.test_openapi import _deref


def tier_story(nickname: str) -> tuple:
    """(tier, growth, points) of the member now, and their tier changes (from, to, why)."""
    member = db.session.execute(select(Member).where(Member.nickname == nickname)).scalar_one()
    names = dict(db.session.execute(select(Tier.id, Tier.name)).all())
    changes = db.session.execute(select(TierChange).where(TierChange.member_id == member.id)
                                 .order_by(TierChange.id)).scalars()
    return ((member.tier.name, member.growth, member.points_balance),
            [(names.get(change.from_tier_id), names[change.to_tier_id], change.reason) for change in changes])


def count(*where, of=Member) -> int:
    return db.session.execute(select(func.count()).select_from(of).where(*where)).scalar_one()


def test_the_demo_data_loads_once_through_the_services_spans_months_and_the_examples_work_on_it(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert (first.exit_code, first.output.strip()) == (0, "demo data loaded"), first.output
    again = runner.invoke(args=["demo-data"])
    assert again.output.strip() == "demo data already present"
    with app.app_context():
        members = db.session.execute(select(Member).order_by(Member.id)).scalars().all()
        assert [member.nickname for member in members[-2:]] == ["Alice", "Bob"]  # today's, the README's logins
        assert len(members) == 204  # 200 of the last six to eight months, the veteran, the returns, Alice and Bob
        for member in members:
            assert_ledger_consistent(member.id)
        assert_the_history_is_alive()
    assert_the_examples_work_when_pasted(app)  # here: the demo data takes a while to load


def assert_the_history_is_alive():
    four_months_ago = start_of_day(today() - timedelta(days=120))
    first_join = db.session.execute(select(func.min(Member.created_at))).scalar_one()
    assert local_date(first_join) <= today() - timedelta(days=365)  # the veteran
    assert count(Member.created_at < four_months_ago) > 40  # the history's first two months
    # 5,200 yuan made her 金卡 at once; 3,000 yuan returned took 3,000 of each back: 银卡; and the
    # demo's thank-you campaign (app/campaigns/demo.py) gave her 20 points (she is not in its holdout)
    assert tier_story("退货的林女士") == (("银卡", 2200, 2220), [("普通", "金卡", "purchase"),
                                                            ("金卡", "银卡", "refund")])
    # 5,600 yuan: 金卡; 300 yuan more at ×1.5 (450 points) in twelve months is below 金卡's 5,000 to keep
    # it: the review lowers him one level and re-bases his growth on 银卡's threshold; 20 points from
    # the thank-you campaign
    assert tier_story("老会员周先生") == (("银卡", 1000, 6070), [("普通", "金卡", "purchase"),
                                                             ("金卡", "银卡", "tier_review")])
    assert count(TierChange.reason == "purchase", of=TierChange) > 30  # upgrades
    assert count(LedgerEntry.kind == "expire", of=LedgerEntry) > 100  # welcome points that lapsed
    assert count(Coupon.state == "used", of=Coupon) > 50 and count(Coupon.state == "expired", of=Coupon) > 50
    assert db.session.execute(select(func.count(func.distinct(Purchase.store_id)))).scalar_one() == 3
    last_purchase = select(func.max(Purchase.created_at)).where(Purchase.member_id == Member.id).scalar_subquery()
    assert count(last_purchase < four_months_ago) > 10  # dormant for months
    layers = dict(db.session.execute(select(MemberLayer.layer, func.count()).group_by(MemberLayer.layer)).all())
    assert layers.keys() == {"high_value", "potential", "new", "at_risk", "dormant"}  # each layer has members
    assert layers["dormant"] >= 5 and layers["at_risk"] >= 5, layers
    past = db.session.execute(select(Campaign).where(Campaign.name == "潜力会员促活：赠 30 积分")).scalar_one()
    outcome = results(past.id)
    assert outcome["final"] and outcome["reached"] == outcome["campaign_group"].members > 10
    assert outcome["holdout_group"].members > 0 and outcome["campaign_group"].buyers > 0
    assert {job for (job,) in db.session.execute(select(JobRun.job).distinct())} == {
        "expire_points", "expire_coupons", "review_tiers"}


def _example_body(spec: dict, path: str, method: str) -> dict:
    """A request body made of the document's examples (the body's own, or its fields'), as someone
    pasting them into /docs would send."""
    schema = _deref(spec, spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])
    return schema.get("example") or {name: prop["example"] for name, prop in schema["properties"].items()
                                     if "example" in prop and not prop.get("readOnly")}


def assert_the_examples_work_when_pasted(app):
    """`make run` loads the demo data; an example of the document naming what it does not hold
    would be refused."""
    spec = Caller(app).get("/openapi.json").json
    member = Caller(app, Caller(app).post("/api/v1/auth/member/login", json={"code": "alice"}).json["token"])
    reply = member.post("/api/v1/member/subscriptions",
                        json=_example_body(spec, "/api/v1/member/subscriptions", "post"))
    assert reply.status_code == 200, reply.json
    login = Caller(app).post("/api/v1/auth/admin/login", json={"username": "admin", "password": "admin-pass-1"})
    rule_path = "/api/v1/admin/message-rules/{kind}"
    body = _example_body(spec, rule_path, "put")
    assert {"template_id", "fields"} <= body.keys()
    admin = Caller(app, login.json["token"])
    reply = admin.request("PUT", rule_path.format(kind="points_expiring"), json=body)
    assert reply.status_code == 200, reply.json
    preview_path = "/api/v1/admin/message-rules/{kind}/preview"
    reply = admin.post(preview_path.format(kind="points_expiring"), json=_example_body(spec, preview_path, "post"))
    assert reply.status_code == 200, reply.json
    tier = next(tier for tier in admin.get("/api/v1/admin/tiers").json["items"] if tier["name"] == "金卡")
    body = _example_body(spec, "/api/v1/admin/tiers/{tier_id}", "patch")
    assert "monthly_coupons" in body["benefits"]
    reply = admin.patch(f"/api/v1/admin/tiers/{tier['id']}", json=body)
    assert reply.status_code == 200 and reply.json["benefits"] == body["benefits"], reply.json
