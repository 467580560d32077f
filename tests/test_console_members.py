"""The console's 会员 and 任务 pages: search (phones masked), a member's page, adjusting points
through the API's service, the CSV export, the jobs' latest runs and "run now"."""
from sqlalchemy import select

from app.clock import today
from app.extensions import db
from app.layers import rfm
from app.members import service as members
from app.operators.models import Operator
from app.operators.roles import ANALYST, OPERATOR
from app.points.models import LedgerEntry
from app.tasks.models import JobRun
from tests.api_steps import bought
from tests.console_helpers import ConsoleClient, error_code
from tests.jobs_helpers import run_worker


def a_member(app, nickname="小王同学", phone="13800001234") -> int:
    with app.app_context():
        member, _ = members.get_or_create(f"openid-{nickname}", None)
        members.update_profile(member, nickname=nickname)
        members.bind_phone(member, phone)
        member_id = member.id
        db.session.commit()
    return member_id


def operator_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(select(Operator.id).where(Operator.username == username)).scalar_one()


def test_the_search_finds_by_the_last_digits_of_a_phone_and_shows_it_masked(app, world):
    member_id = a_member(app)
    client = ConsoleClient.logged_in(app, ANALYST)
    page = client.get("/console/members", query_string={"q": "1234"}).get_data(as_text=True)
    assert f'data-member-id="{member_id}"' in page and "138****1234" in page and "13800001234" not in page
    nothing = client.get("/console/members", query_string={"q": "9999"}).get_data(as_text=True)
    assert "没有找到会员" in nothing


def test_a_bad_filter_is_a_422_page(app, world):
    client = ConsoleClient.logged_in(app, ANALYST)
    for query in ({"tier_id": "x"}, {"q": "9" * 65}):
        reply = client.get("/console/members", query_string=query)
        assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR"), query


def test_the_members_page_shows_the_card_and_its_histories(app, world):
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 1200_00)  # 1,200 points and growth: 银卡
    page = ConsoleClient.logged_in(app, ANALYST).get(f"/console/members/{alice.member_id}").get_data(as_text=True)
    assert '<dd id="member-tier">银卡</dd>' in page and '<dd id="member-balance">1200</dd>' in page
    for section in ("ledger", "lots", "tier-changes", "purchases", "coupons", "orders", "checkins", "referrals",
                    "messages", "member-layer"):
        assert f'id="{section}"' in page, section
    assert 'id="adjust-points"' not in page  # an analyst reads only


def test_the_members_page_shows_the_last_rfm_runs_layer_and_when(app, world):
    alice, bob = world.member("alice"), world.member("bob")
    bought(world.staff(), alice.member_id, 1200_00)
    client = ConsoleClient.logged_in(app, ANALYST)
    assert 'id="member-layer-none"' in client.get(f"/console/members/{alice.member_id}").get_data(as_text=True)
    with app.app_context():
        rfm.compute_layers()
        db.session.commit()
        day = today().isoformat()
    page = client.get(f"/console/members/{alice.member_id}").get_data(as_text=True)
    # the only buyer ranks first of one on each score: 1 + 5 × 0 ÷ 1; joined today: 新客
    assert '<dd id="member-layer-name">新客</dd>' in page and '<dd id="member-rfm">1 / 1 / 1</dd>' in page
    assert "1 次，1200.00 元" in page and f'<dd id="member-layer-day">{day}</dd>' in page
    page = client.get(f"/console/members/{bob.member_id}").get_data(as_text=True)
    assert '<dd id="member-layer-name">新客</dd>' in page and '<dd id="member-rfm">— / — / —</dd>' in page


def test_an_operator_adjusts_points_with_a_reason_through_the_ledger(app, world):
    member_id = a_member(app)
    client = ConsoleClient.logged_in(app, OPERATOR, "console-operator")
    reply = client.post(f"/console/members/{member_id}/points-adjustments", data={"delta": "120", "reason": "客诉补偿"})
    assert reply.status_code == 303, reply.get_data(as_text=True)
    page = client.get(f"/console/members/{member_id}").get_data(as_text=True)
    assert '<dd id="member-balance">120</dd>' in page and "客诉补偿" in page
    actor = f"admin:{operator_id(app, 'console-operator')}"
    with app.app_context():
        entry = db.session.execute(select(LedgerEntry).where(LedgerEntry.member_id == member_id)).scalar_one()
        assert (entry.delta, entry.kind, entry.reason, entry.actor) == (120, "adjust", "客诉补偿", actor)


def test_a_bad_adjustment_is_a_422_with_the_form_and_writes_nothing(app, world):
    member_id = a_member(app)
    client = ConsoleClient.logged_in(app, OPERATOR)
    for data in ({"delta": "abc", "reason": "客诉补偿"}, {"delta": "0", "reason": "客诉补偿"},
                 {"delta": "10", "reason": ""}, {"delta": "-5", "reason": "扣减"}):
        reply = client.post(f"/console/members/{member_id}/points-adjustments", data=data)
        assert reply.status_code in (409, 422), (data, reply.status_code)
    with app.app_context():
        assert db.session.execute(select(LedgerEntry.id)).first() is None


def test_the_export_link_streams_the_filtered_list_masked(app, world):
    a_member(app)
    a_member(app, "老李", "13900005678")
    reply = ConsoleClient.logged_in(app, ANALYST).get("/console/members/export.csv", query_string={"q": "5678"})
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    lines = reply.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 2 and "老李" in lines[1] and "139****5678" in lines[1]


def test_the_jobs_page_runs_a_job_now_as_the_operator(app, world):
    client = ConsoleClient.logged_in(app, OPERATOR, "console-operator")
    assert "从未运行" in client.get("/console/jobs").get_data(as_text=True)
    reply = client.post("/console/jobs/expire_coupons/runs")
    assert reply.status_code == 303, reply.get_data(as_text=True)
    run_worker(app)  # the suite's app has REDIS_URL: the run went to the queue
    actor = f"admin:{operator_id(app, 'console-operator')}"
    with app.app_context():
        run = db.session.execute(select(JobRun)).scalar_one()
        assert (run.job, run.status, run.started_by) == ("expire_coupons", "ok", actor)
    assert 'data-job="expire_coupons"' in client.get("/console/jobs").get_data(as_text=True)
    reply = client.post("/console/jobs/nope/runs")
    assert (reply.status_code, error_code(reply)) == (404, "JOB_NOT_FOUND")
