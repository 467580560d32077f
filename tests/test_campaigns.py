"""Campaigns: preview and dry run, a launch in batches (resumable, once), the holdout, results
against the holdout from fixture purchases, and the churn recall."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.batches import run_batches
from app.campaigns import launch
from app.campaigns.models import CampaignMember
from app.extensions import db
from app.mall.models import Coupon
from app.member_row import Member
from app.messaging import subscriptions
from app.messaging.delivery import deliver
from app.messaging.models import Message, OutboxEvent
from app.messaging.outbox import dispatch_pending
from app.operators.models import Operator
from app.points.models import LedgerEntry
from app.tasks import jobs
from tests.helpers import add_account, assert_ledger_consistent, run_in_threads
from tests.layers_steps import RUN, add_member, add_purchase, build_fixture
from tests.mall_steps import create_template

ADMIN = "/api/v1/admin"


def crowd(app, world, count: int) -> list[int]:
    with app.app_context():
        ids = [add_member(f"m{i}", world.tiers["普通"], RUN - timedelta(days=100)) for i in range(count)]
        db.session.commit()
    return ids


def new_campaign(admin, conditions=None, **fields) -> dict:
    segment = admin.post(f"{ADMIN}/segments", json={"name": "人群", "conditions": conditions or {}})
    assert segment.status_code == 201, segment.json
    body = {"name": "回归礼", "segment_id": segment.json["id"], "starts_at": RUN.isoformat(), "holdout_pct": 20,
            "response_days": 7, **fields}
    reply = admin.post(f"{ADMIN}/campaigns", json=body)
    assert reply.status_code == 201, reply.json
    return reply.json


def groups(app, campaign_id: int) -> dict[bool, list[int]]:
    with app.app_context():
        rows = db.session.execute(select(CampaignMember.holdout, CampaignMember.member_id)
                                  .where(CampaignMember.campaign_id == campaign_id)
                                  .order_by(CampaignMember.member_id)).all()
    return {held: [member_id for holdout, member_id in rows if holdout == held] for held in (False, True)}


def campaign_entries(app) -> list[int]:
    with app.app_context():
        return list(db.session.execute(select(LedgerEntry.member_id).where(LedgerEntry.kind == "campaign")
                                       .order_by(LedgerEntry.member_id)).scalars())


def run_job(app, job=jobs.run_campaigns) -> dict:
    with app.app_context():
        return job()


def test_a_launch_reaches_the_campaign_group_once_and_keeps_the_holdout_out(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_BATCH", 150)
    members = crowd(app, world, 400)
    with time_machine.travel(RUN, tick=False):
        admin = world.admin()
        template = create_template(admin)
        campaign = new_campaign(admin, coupon_template_id=template["id"], points=10, send_message=True)
        preview = admin.get(f"{ADMIN}/campaigns/{campaign['id']}/preview").json
        assert preview["members"] == 400 and preview["target"] + preview["holdout"] == 400
        assert 60 <= preview["holdout"] <= 100  # 20 % of 400, drawn at random
        dry = admin.get(f"{ADMIN}/campaigns/{campaign['id']}/dry-run").json
        assert len(dry["sample"]) == 20 and dry["holdout"] == preview["holdout"]
        assert campaign_entries(app) == []  # a dry run writes nothing
        assert run_job(app) == {"assigned": 0, "reached": 0}  # a draft is not launched

        launched = admin.post(f"{ADMIN}/campaigns/{campaign['id']}/launch")
        assert launched.status_code == 200 and launched.json["launched_by"] is not None
        assert run_job(app) == {"assigned": 400, "reached": preview["target"]}
        target, holdout = groups(app, campaign["id"]).values()
        assert len(holdout) == preview["holdout"] and set(target) | set(holdout) == set(members)
        assert {row["member_id"] for row in dry["sample"] if row["holdout"]} <= set(holdout)
        assert campaign_entries(app) == target
        with app.app_context():
            balances = dict(db.session.execute(select(Member.id, Member.points_balance)).all())
            assert {balances[member_id] for member_id in target} == {10}
            assert {balances[member_id] for member_id in holdout} == {0}
            for member_id in target[:5]:
                assert assert_ledger_consistent(member_id)["open_lots"] == 10
            assert sorted(db.session.execute(select(Coupon.member_id)).scalars()) == target
            assert sorted(db.session.execute(select(OutboxEvent.member_id)
                                             .where(OutboxEvent.kind == "campaign_reached")).scalars()) == target

        again = admin.post(f"{ADMIN}/campaigns/{campaign['id']}/launch")
        assert again.json["launched_at"] == launched.json["launched_at"]
        assert run_job(app) == {"assigned": 0, "reached": 0}  # nothing left to do
        assert campaign_entries(app) == target

        other = new_campaign(admin, points=1)  # the same members, drawn again for another campaign
        admin.post(f"{ADMIN}/campaigns/{other['id']}/launch")
        run_job(app)
        assert groups(app, other["id"])[True] != holdout


def test_a_launch_that_died_mid_way_resumes_without_reaching_anyone_twice(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_BATCH", 150)
    crowd(app, world, 400)
    with time_machine.travel(RUN, tick=False):
        admin = world.admin()
        campaign = new_campaign(admin, points=10)
        admin.post(f"{ADMIN}/campaigns/{campaign['id']}/launch")
        with app.app_context():
            sweep = launch.run_due()
            for _ in range(5):  # three batches assigned, the assignment closed, one batch reached
                next(sweep)
                db.session.commit()
            sweep.close()  # the worker dies here
            reached = db.session.execute(select(func.count()).where(CampaignMember.state == "reached")).scalar()
            assert reached == 150
        assert run_job(app)["reached"] == len(groups(app, campaign["id"])[False]) - 150
        assert campaign_entries(app) == groups(app, campaign["id"])[False]


def test_two_operators_launching_at_once_and_two_jobs_at_once_launch_once(app, world):
    crowd(app, world, 60)
    with app.app_context():
        add_account(Operator, "operator2", name="Operator 2")
        db.session.commit()
    with time_machine.travel(RUN, tick=False):
        admins = [world.admin(), world.login("admin", "operator2")]
        campaign = new_campaign(admins[0], points=10, holdout_pct=10)
        replies = run_in_threads(2, lambda i: admins[i].post(f"{ADMIN}/campaigns/{campaign['id']}/launch"))
        assert [reply.status_code for reply in replies] == [200, 200]
        assert replies[0].json["launched_at"] == replies[1].json["launched_at"]
        assert replies[0].json["launched_by"] == replies[1].json["launched_by"]
        counts = run_in_threads(2, lambda i: run_job(app))
        target = groups(app, campaign["id"])[False]
        assert sum(result.get("reached", 0) for result in counts) == len(target)
        assert campaign_entries(app) == target


def test_results_give_the_uplift_worked_out_from_fixture_purchases(app, world, fake_wechat):
    members = crowd(app, world, 20)
    with time_machine.travel(RUN, tick=False) as clock:
        admin = world.admin()
        template = create_template(admin)
        rule = admin.request("PUT", f"{ADMIN}/message-rules/campaign_reached", json={
            "template_id": "tmpl-campaign", "fields": {"thing1": "{campaign}", "thing2": "{coupon}"}})
        assert rule.status_code == 200, rule.json
        campaign = new_campaign(admin, coupon_template_id=template["id"], send_message=True, holdout_pct=50)
        admin.post(f"{ADMIN}/campaigns/{campaign['id']}/launch")
        run_job(app)
        target, holdout = groups(app, campaign["id"]).values()
        assert (len(target), len(holdout)) == (9, 11)  # the draw under the tests' SECRET_KEY
        with app.app_context():
            subscriptions.report(target[0], {"tmpl-campaign": "accept"})  # one member can be sent to
            run_batches(dispatch_pending(lambda ids: None))
            for message_id in db.session.execute(select(Message.id)).scalars().all():
                deliver(message_id, "test", last_attempt=True)
            for member_id, days, yuan, refunded in (
                    (target[0], 1, 100, 0), (target[1], 2, 200, 0), (target[2], 6, 300, 0),  # responses
                    (target[3], 8, 500, 0),  # after its 7 days
                    (target[4], -1, 500, 0),  # before the launch
                    (holdout[0], 2, 100, 40),  # net 60 yuan
                    (holdout[1], 3, 100, 100)):  # refunded in full: no purchase
                add_purchase(member_id, world, RUN + timedelta(days=days), yuan, refunded)
            db.session.commit()
            code = db.session.execute(select(Coupon.code).where(Coupon.member_id == target[0])).scalar_one()
        used = world.staff().post("/api/v1/staff/verifications",
                                  json={"code": code, "order_no": "POS-1", "amount_fen": 150_00})
        assert used.status_code in (200, 201), used.json
        clock.shift(timedelta(days=10))
        results = admin.get(f"{ADMIN}/campaigns/{campaign['id']}/results").json
    assert results | {"window_ends_at": None} == {
        "campaign_id": campaign["id"], "reached": 9, "coupons_issued": 9, "coupons_used": 1,
        "messages": {"sent": 1, "skipped": 8},
        # 3 of 9 bought 600 yuan in all: 3/9 = 0.3333…, 60000 fen / 9 = 6666
        "campaign_group": {"members": 9, "buyers": 3, "spend_fen": 60_000, "purchase_rate": 3 / 9,
                           "spend_per_member_fen": 6666},
        # 1 of 11 bought 60 yuan net: 1/11 = 0.0909…, 6000 / 11 = 545
        "holdout_group": {"members": 11, "buyers": 1, "spend_fen": 6_000, "purchase_rate": 1 / 11,
                          "spend_per_member_fen": 545},
        # 3/9 − 1/11 = 8/33 = 0.2424; over 1/11: 88/33 = 2.6667; 6666 − 545 = 6121, over 545: 11.2312
        "uplift": {"purchase_rate": 0.2424, "purchase_rate_relative": 2.6667,
                   "spend_per_member_fen": 6121, "spend_per_member_relative": 11.2312},
        "window_ends_at": None, "final": True}
    assert sorted(members) == sorted(target + holdout)


def test_the_churn_recall_reaches_members_as_they_move_into_at_risk(app, world):
    with app.app_context():
        members = build_fixture(world)
    with time_machine.travel(RUN, tick=False) as clock:
        admin = world.admin()
        plain = new_campaign(admin, points=5)
        refused = admin.request("PUT", f"{ADMIN}/churn-recall", json={"campaign_id": plain["id"], "enabled": True})
        assert refused.status_code == 422 and "campaign_id" in refused.json["error"]["details"]["fields"]
        recall = new_campaign(admin, points=5, holdout_pct=0, recall=True)
        admin.post(f"{ADMIN}/campaigns/{recall['id']}/launch")
        assert run_job(app) == {"assigned": 0, "reached": 0}  # launching a recall campaign assigns nobody
        turned_on = admin.request("PUT", f"{ADMIN}/churn-recall", json={"campaign_id": recall["id"], "enabled": True})
        assert turned_on.status_code == 200 and turned_on.json["enabled"] is True

        counts = run_job(app, jobs.compute_layers)
        assert (counts["recalled"], counts["reached"]) == (1, 1)
        assert campaign_entries(app) == [members["lapsing"]]  # the one at risk on the first run
        clock.shift(timedelta(days=120))
        counts = run_job(app, jobs.compute_layers)
        assert (counts["recalled"], counts["reached"]) == (3, 3)
        assert campaign_entries(app) == sorted([members["lapsing"], members["whale"], members["steady"],
                                                members["twice"]])
        admin.request("PUT", f"{ADMIN}/churn-recall", json={"campaign_id": recall["id"], "enabled": False})
        clock.shift(timedelta(days=1))
        assert run_job(app, jobs.compute_layers)["recalled"] == 0


def test_a_coupon_sold_out_mid_launch_still_reaches_the_member_and_says_why(app, world):
    crowd(app, world, 8)
    with time_machine.travel(RUN, tick=False):
        admin = world.admin()
        template = create_template(admin, total_limit=3)
        campaign = new_campaign(admin, coupon_template_id=template["id"], points=10, holdout_pct=0)
        admin.post(f"{ADMIN}/campaigns/{campaign['id']}/launch")
        assert run_job(app)["reached"] == 8
        with app.app_context():
            outcomes = db.session.execute(select(CampaignMember.coupon_id.is_not(None), CampaignMember.coupon_error)
                                          .order_by(CampaignMember.member_id)).all()
        assert [tuple(row) for row in outcomes] == [(True, None)] * 3 + [(False, "COUPON_SOLD_OUT")] * 5
        assert len(campaign_entries(app)) == 8  # the points went to all of them
        results = admin.get(f"{ADMIN}/campaigns/{campaign['id']}/results").json
        assert (results["reached"], results["coupons_issued"]) == (8, 3)


@pytest.mark.parametrize("fields, status, code", [
    ({}, 422, "VALIDATION_ERROR"),  # no action at all
    ({"points": 10, "segment_id": 999}, 404, "SEGMENT_NOT_FOUND"),
    ({"coupon_template_id": 999}, 404, "COUPON_TEMPLATE_NOT_FOUND"),
    ({"points": 10, "holdout_pct": 51}, 422, "VALIDATION_ERROR"),
    ({"points": 10, "starts_at": "2026-06-15T12:00:00"}, 422, "VALIDATION_ERROR"),  # no offset
])
def test_a_campaign_that_cannot_run_is_refused_with_its_code(app, world, fields, status, code):
    with time_machine.travel(RUN, tick=False):
        admin = world.admin()
        segment = admin.post(f"{ADMIN}/segments", json={"name": "人群", "conditions": {}}).json
        body = {"name": "活动", "segment_id": segment["id"], "starts_at": RUN.isoformat(), **fields}
        reply = admin.post(f"{ADMIN}/campaigns", json=body)
        assert (reply.status_code, reply.json["error"]["code"]) == (status, code)
        assert admin.get(f"{ADMIN}/campaigns").json == {"items": [], "next_cursor": None}
        assert admin.post(f"{ADMIN}/campaigns/999/launch").status_code == 404
