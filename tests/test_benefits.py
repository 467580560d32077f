"""Tier benefits to claim (权益领取): grants per period on a frozen clock, claims, expiry, numbers."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.batches import run_batches
from app.extensions import db
from app.mall import benefits, coupons
from app.mall.benefit_models import BenefitGrant
from app.mall.models import Coupon
from app.member_row import Member, Tier
from app.members import service as members
from app.messaging.models import OutboxEvent
from app.points import service as ledger
from app.tasks import jobs
from app.tasks.models import JobRun
from tests.api_steps import error_code
from tests.helpers import run_in_threads
from tests.jobs_helpers import new_member, queue_of, run_worker
from tests.mall_steps import member_caller

SHANGHAI = ZoneInfo("Asia/Shanghai")
BENEFITS = "/api/v1/member/benefits"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def template(name: str = "月度礼券", **fields) -> int:
    values = {"kind": "amount_off", "amount_off_fen": 5_00, "valid_days": 30, **fields}
    return coupons.create_template(name=name, **values).id


def give_pack(world, tier_name: str, benefit: str, template_id: int, count: int = 1) -> None:
    tier = db.session.get(Tier, world.tiers[tier_name])
    tier.benefits = {**tier.benefits, f"{benefit}_coupons": [{"template_id": template_id, "count": count}]}
    db.session.commit()


def member_at(world, code: str, tier_name: str = "金卡", birthday: date | None = None,
              at: datetime = local(2027, 1, 5, 12)) -> int:
    """A member whose growth reached the tier at `at`."""
    member_id = new_member(code)
    threshold = db.session.get(Tier, world.tiers[tier_name]).growth_threshold
    with time_machine.travel(at, tick=False):
        if threshold:
            members.change_growth(member_id, threshold, ledger.Posting(kind="test", key=f"reach:{code}"))
        db.session.get(Member, member_id).birthday = birthday
        db.session.commit()
    return member_id


def run(job, at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        return job()


def grants(benefit: str | None = None) -> list[tuple]:
    stmt = select(BenefitGrant.member_id, BenefitGrant.benefit, BenefitGrant.period, BenefitGrant.state)
    if benefit:
        stmt = stmt.where(BenefitGrant.benefit == benefit)
    rows = db.session.execute(stmt.order_by(BenefitGrant.id)).all()
    db.session.commit()
    return [tuple(row) for row in rows]


def events(kind: str) -> list[tuple]:
    rows = db.session.execute(select(OutboxEvent.member_id, OutboxEvent.payload).where(OutboxEvent.kind == kind)
                              .order_by(OutboxEvent.id)).all()
    return [tuple(row) for row in rows]


def test_the_monthly_pack_is_granted_once_a_month_and_claimable_until_the_month_ends(app, world, ctx):
    give_pack(world, "金卡", "monthly", template())
    gold, _entry = member_at(world, "alice"), member_at(world, "bob", "普通")

    assert run(jobs.grant_monthly_benefits, local(2027, 12, 1, 0, 10)) == {"granted": 1}
    assert run(jobs.grant_monthly_benefits, local(2027, 12, 1, 0, 10)) == {"granted": 0}  # run twice = once
    assert run(jobs.grant_monthly_benefits, local(2027, 12, 31, 23, 59)) == {"granted": 0}
    assert run(jobs.grant_monthly_benefits, local(2028, 1, 1, 0, 10)) == {"granted": 1}  # across the year end
    assert run(jobs.grant_monthly_benefits, local(2028, 2, 1, 0, 10)) == {"granted": 1}
    assert grants() == [(gold, "monthly", "2027-12", "claimable"), (gold, "monthly", "2028-01", "claimable"),
                        (gold, "monthly", "2028-02", "claimable")]
    assert [payload["expires_on"] for _, payload in events("benefit_claimable")] == [
        "2027-12-31", "2028-01-31", "2028-02-29"]  # a leap year's February

    with time_machine.travel(local(2028, 2, 27, 9), tick=False):
        listed = [(b.grant.period, b.state, b.days_left) for b in benefits.member_benefits(gold)]
    assert listed == [("2028-02", "claimable", 2), ("2028-01", "expired", None), ("2027-12", "expired", None)]
    assert run(jobs.expire_benefits, local(2028, 3, 1, 0, 25)) == {"expired": 3}
    assert run(jobs.expire_benefits, local(2028, 3, 1, 0, 25)) == {"expired": 0}


def test_the_benefit_jobs_run_in_a_real_rq_worker(app, world, ctx):
    """Enqueued on Redis and run by our RQ worker in burst mode, as production's scheduler
    does: grants, the reminder before expiry and the expiry, each run recorded."""
    give_pack(world, "金卡", "monthly", template())
    give_pack(world, "金卡", "birthday", template("生日券"))
    gold = member_at(world, "alice", birthday=date(1990, 12, 24))

    def through_worker(at: datetime, *job_functions) -> None:
        db.session.commit()  # end the test's read (SQLite: an open transaction holds the write lock)
        with time_machine.travel(at, tick=False):
            for job in job_functions:
                queue_of(app).enqueue(job)
            run_worker(app)

    through_worker(local(2027, 12, 1, 0, 10), jobs.grant_monthly_benefits, jobs.grant_birthday_benefits)
    assert grants() == [(gold, "monthly", "2027-12", "claimable"), (gold, "birthday", "2027", "claimable")]
    through_worker(local(2027, 12, 29, 10), jobs.remind_benefits_expiring)
    assert len(events("benefit_expiring")) == 2
    through_worker(local(2028, 1, 1, 0, 25), jobs.expire_benefits)
    assert [state for *_, state in grants()] == ["expired", "expired"]
    recorded = dict(db.session.execute(select(JobRun.job, JobRun.counts)
                                       .where(JobRun.status == "ok", JobRun.job.like("%_benefits%"))).all())
    assert recorded == {"grant_monthly_benefits": {"granted": 1}, "grant_birthday_benefits": {"granted": 1},
                        "remind_benefits_expiring": {"reminded": 2}, "expire_benefits": {"expired": 2}}


def test_a_month_end_instant_belongs_to_the_local_month(app, world, ctx):
    """23:59 on 31 January in Shanghai is still January; 00:00 on 1 February (16:00 UTC) is February."""
    give_pack(world, "金卡", "monthly", template())
    member_at(world, "alice")
    run(jobs.grant_monthly_benefits, local(2028, 1, 31, 23, 59))
    run(jobs.grant_monthly_benefits, local(2028, 2, 1, 0, 0))
    assert [period for _, _, period, _ in grants()] == ["2028-01", "2028-02"]


def test_the_birthday_pack_comes_in_the_birthday_month_and_29_february_gets_february(app, world, ctx):
    """Rule chosen: the birthday benefit is by month, so 29 February has its month every year."""
    give_pack(world, "银卡", "birthday", template("生日券"))
    leap = member_at(world, "alice", "银卡", birthday=date(2000, 2, 29))
    member_at(world, "bob", "银卡", birthday=date(1999, 3, 1))
    member_at(world, "carol", "银卡")  # no birthday given

    assert run(jobs.grant_birthday_benefits, local(2027, 1, 31, 23)) == {"granted": 0}
    assert run(jobs.grant_birthday_benefits, local(2027, 2, 1, 0, 30)) == {"granted": 1}
    assert run(jobs.grant_birthday_benefits, local(2027, 2, 28, 0, 30)) == {"granted": 0}  # daily: once a year
    assert run(jobs.grant_birthday_benefits, local(2028, 2, 15, 0, 30)) == {"granted": 1}
    assert grants() == [(leap, "birthday", "2027", "claimable"), (leap, "birthday", "2028", "claimable")]
    assert [payload["expires_on"] for _, payload in events("benefit_claimable")] == ["2027-02-28", "2028-02-29"]


def test_reaching_a_tier_grants_its_upgrade_pack_once_and_only_the_tier_reached(app, world, ctx):
    give_pack(world, "银卡", "upgrade", template("银卡礼包"))
    give_pack(world, "金卡", "upgrade", template("金卡礼包"), count=2)
    jumper = member_at(world, "alice", "金卡", at=local(2027, 1, 5, 12))  # 普通 → 金卡 at once
    climber = member_at(world, "bob", "银卡", at=local(2027, 1, 5, 12))
    with time_machine.travel(local(2027, 1, 6, 12), tick=False):
        # a refund takes the tier back, a purchase earns it again: the pack is not given twice
        members.change_growth(climber, -500, ledger.Posting(kind="test", key="down"), allow_downgrade=True)
        members.change_growth(climber, 500, ledger.Posting(kind="test", key="up"))
        db.session.commit()
    assert db.session.get(Member, climber).tier_id == world.tiers["银卡"]
    assert grants("upgrade") == [(jumper, "upgrade", f"tier-{world.tiers['金卡']}", "claimable"),
                                 (climber, "upgrade", f"tier-{world.tiers['银卡']}", "claimable")]
    # 30 days counting the day of the upgrade (BENEFIT_UPGRADE_CLAIM_DAYS)
    assert [payload["expires_on"] for _, payload in events("benefit_claimable")] == ["2027-02-03", "2027-02-03"]


def test_claiming_issues_the_pack_once_and_claiming_again_answers_the_same(app, world):
    with app.app_context():
        template_id = template()
        give_pack(world, "金卡", "monthly", template_id, count=2)
        member_id = member_at(world, "alice")
        run(jobs.grant_monthly_benefits, local(2027, 2, 1, 1))
    with time_machine.travel(local(2027, 2, 20, 12), tick=False):
        member = member_caller(app, member_id)
        reply = member.get(BENEFITS)
        assert reply.status_code == 200, reply.json
        (listed,) = reply.json["items"]
        assert (listed["state"], listed["days_left"], listed["expires_on"]) == ("claimable", 8, "2027-02-28")
        assert (listed["name"], listed["tier"]) == ("每月礼券", "金卡")  # the tier that gave it, by name
        assert listed["coupons"] == [{"template_id": template_id, "name": "月度礼券", "value": "5元代金券",
                                      "count": 2}]
        first = member.post(f"{BENEFITS}/{listed['id']}/claim")
        again = member.post(f"{BENEFITS}/{listed['id']}/claim")
    assert first.status_code == again.status_code == 200, first.json
    assert first.json["benefit"]["state"] == "claimed" and first.json["benefit"]["days_left"] is None
    assert [c["id"] for c in first.json["coupons"]] == [c["id"] for c in again.json["coupons"]]
    assert len(first.json["coupons"]) == 2
    assert {c["source"] for c in first.json["coupons"]} == {"benefit"}


def test_an_expired_or_anothers_benefit_cannot_be_claimed(app, world):
    with app.app_context():
        give_pack(world, "金卡", "monthly", template())
        member_id, other = member_at(world, "alice"), member_at(world, "bob")
        run(jobs.grant_monthly_benefits, local(2027, 2, 1, 1))
        grant_id = db.session.execute(select(BenefitGrant.id).where(BenefitGrant.member_id == member_id)).scalar()
    with time_machine.travel(local(2027, 2, 28, 23, 59), tick=False):
        assert error_code(member_caller(app, other).post(f"{BENEFITS}/{grant_id}/claim")) == "BENEFIT_NOT_FOUND"
    with time_machine.travel(local(2027, 3, 1, 0, 0), tick=False):  # not yet swept, already over
        reply = member_caller(app, member_id).post(f"{BENEFITS}/{grant_id}/claim")
    assert (reply.status_code, error_code(reply)) == (409, "BENEFIT_EXPIRED")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Coupon)).scalar_one() == 0


def test_the_coupon_limits_apply_and_a_refused_claim_stays_claimable(app, world):
    with app.app_context():
        template_id = template(total_limit=1)
        give_pack(world, "金卡", "monthly", template_id)
        alice, bob = member_at(world, "alice"), member_at(world, "bob")
        run(jobs.grant_monthly_benefits, local(2027, 2, 1, 1))
        ids = dict(db.session.execute(select(BenefitGrant.member_id, BenefitGrant.id)).all())
    with time_machine.travel(local(2027, 2, 2, 12), tick=False):
        assert member_caller(app, alice).post(f"{BENEFITS}/{ids[alice]}/claim").status_code == 200
        assert error_code(member_caller(app, bob).post(f"{BENEFITS}/{ids[bob]}/claim")) == "COUPON_SOLD_OUT"
    with app.app_context():
        assert dict(db.session.execute(select(BenefitGrant.member_id, BenefitGrant.state)).all()) == {
            alice: "claimed", bob: "claimable"}


def test_concurrent_claims_issue_one_coupon(app, world):
    with app.app_context():
        give_pack(world, "金卡", "monthly", template())
        member_id = member_at(world, "alice")
        run(jobs.grant_monthly_benefits, local(2027, 2, 1, 1))
        grant_id = db.session.execute(select(BenefitGrant.id)).scalar_one()
    with time_machine.travel(local(2027, 2, 2, 12), tick=False):
        member = member_caller(app, member_id)
        replies = run_in_threads(4, lambda _: member.post(f"{BENEFITS}/{grant_id}/claim"))

    assert [reply.status_code for reply in replies] == [200] * 4, [reply.json for reply in replies]
    assert len({reply.json["coupons"][0]["id"] for reply in replies}) == 1
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Coupon)).scalar_one() == 1


def test_two_grant_runs_at_once_grant_each_member_once(app, world):
    with app.app_context():
        give_pack(world, "金卡", "monthly", template())
        ids = [member_at(world, f"m{i}") for i in range(30)]

    def grant(_):
        with app.app_context():
            return run(lambda: run_batches(benefits.grant_monthly()), local(2027, 2, 1, 0, 10))["granted"]

    assert sum(run_in_threads(2, grant)) == 30
    with app.app_context():
        assert sorted(member_id for member_id, *_ in grants()) == sorted(ids)
        assert sorted(member_id for member_id, _ in events("benefit_claimable")) == sorted(ids)


def test_an_unclaimed_benefit_is_reminded_once_before_it_expires(app, world, ctx):
    give_pack(world, "金卡", "monthly", template())
    member_id = member_at(world, "alice")
    run(jobs.grant_monthly_benefits, local(2028, 2, 1, 1))
    assert run(jobs.remind_benefits_expiring, local(2028, 2, 25, 10)) == {"reminded": 0}
    assert run(jobs.remind_benefits_expiring, local(2028, 2, 26, 10)) == {"reminded": 1}
    assert run(jobs.remind_benefits_expiring, local(2028, 2, 27, 10)) == {"reminded": 0}
    grant_id = db.session.execute(select(BenefitGrant.id)).scalar_one()
    assert events("benefit_expiring") == [(member_id, {"grant_id": grant_id, "benefit": "每月礼券",
                                                       "expires_on": "2028-02-29", "days_left": 3})]


def test_operators_see_the_claim_rate_per_benefit_and_period(app, world):
    with app.app_context():
        give_pack(world, "金卡", "monthly", template())
        ids = [member_at(world, f"m{i}") for i in range(4)]
        run(jobs.grant_monthly_benefits, local(2027, 2, 1, 1))
        grant_ids = dict(db.session.execute(select(BenefitGrant.member_id, BenefitGrant.id)).all())
    with time_machine.travel(local(2027, 2, 3, 12), tick=False):
        assert member_caller(app, ids[0]).post(f"{BENEFITS}/{grant_ids[ids[0]]}/claim").status_code == 200
    with time_machine.travel(local(2027, 3, 1, 12), tick=False):
        assert member_caller(app, ids[1]).post(f"{BENEFITS}/{grant_ids[ids[1]]}/claim").status_code == 409
        reply = world.admin().get("/api/v1/admin/benefits/claim-rates?benefit=monthly")
    assert reply.json == {"items": [{"benefit": "monthly", "period": "2027-02", "granted": 4, "claimed": 1,
                                     "expired": 3, "claim_rate": 0.25}], "next_cursor": None}


def test_operators_set_coupon_packs_on_a_tier_and_a_malformed_pack_is_refused(app, world):
    with app.app_context():
        template_id = template()
        db.session.commit()
    admin = world.admin()
    path = f"/api/v1/admin/tiers/{world.tiers['金卡']}"
    bad = admin.patch(path, json={"benefits": {"monthly_coupons": [{"count": 2}]}})
    assert (bad.status_code, error_code(bad)) == (422, "VALIDATION_ERROR")
    assert "benefits.monthly_coupons" in bad.json["error"]["details"]["fields"]
    good = admin.patch(path, json={"benefits": {"discount_pct": 95,
                                                "monthly_coupons": [{"template_id": template_id, "count": 2}]}})
    assert good.status_code == 200, good.json
    assert good.json["benefits"]["monthly_coupons"] == [{"template_id": template_id, "count": 2}]


@pytest.mark.parametrize("benefits, field", [
    ({"monthly_coupons": [{"template_id": 999, "count": 1}]}, "benefits.monthly_coupons"),  # no such template
    ({"upgrade_coupons": [{"template_id": "<t>"}, {"template_id": 999}]}, "benefits.upgrade_coupons"),
    ({"discount_pcnt": 95}, "benefits.discount_pcnt"),  # a typo of a key
    ({"discount_pct": "95"}, "benefits.discount_pct"),
    ({"discount_pct": 0}, "benefits.discount_pct"),
    ({"free_shipping": 1}, "benefits.free_shipping"),
    ({"birthday_points": True}, "benefits.birthday_points"),
    ({"checkin_multiplier": "yes"}, "benefits.checkin_multiplier"),
    ({"birthday_coupons": {"template_id": "<t>"}}, "benefits.birthday_coupons"),  # not a list
    ({"birthday_coupons": [{"template_id": "<t>", "count": 11}]}, "benefits.birthday_coupons"),
    ({"birthday_coupons": [{"template_id": "<t>", "extra": 1}]}, "benefits.birthday_coupons"),
])
def test_tier_benefits_are_stored_only_with_known_keys_values_and_templates(app, world, benefits, field):
    with app.app_context():
        template_id = template()
        db.session.commit()
        before = db.session.get(Tier, world.tiers["金卡"]).benefits
    benefits = {key: [{**entry, "template_id": template_id} if entry.get("template_id") == "<t>" else entry
                      for entry in value] if isinstance(value, list) else
                {**value, "template_id": template_id} if isinstance(value, dict) else value
                for key, value in benefits.items()}
    admin = world.admin()
    patched = admin.patch(f"/api/v1/admin/tiers/{world.tiers['金卡']}", json={"benefits": benefits})
    created = admin.post("/api/v1/admin/tiers", json={"level": 9, "name": "黑金", "growth_threshold": 999_999,
                                                      "benefits": benefits})
    for reply in (patched, created):
        assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
        assert list(reply.json["error"]["details"]["fields"]) == [field]
    with app.app_context():
        assert db.session.get(Tier, world.tiers["金卡"]).benefits == before
        assert db.session.execute(select(func.count()).select_from(Tier)).scalar_one() == len(world.tiers)
