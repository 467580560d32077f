"""The console's 配置 pages: tiers and benefits, check-in and referral rules, tasks, message rules
with their preview, stores and staff. Each lists, writes through the admin API's service,
answers a bad value with the form again (422, the field's message, what was typed kept), and
shows an analyst no write form (a POST is refused)."""
import re

import pytest
from sqlalchemy import select

from app.api.console.config import BENEFIT_FIELDS
from app.audit.models import AuditEntry
from app.engagement import settings, tasks
from app.engagement.models import Task
from app.extensions import db
from app.mall import coupons
from app.member_row import Tier
from app.members.benefit_keys import CHECKS
from app.messaging import rules
from app.messaging.models import MessageRule
from app.operators.roles import ANALYST, OPERATOR
from app.stores.models import Staff, Store
from tests.console_form_helpers import field_errors, kept
from tests.console_helpers import ConsoleClient, assert_analysts_only_read, error_code

TIER = {"name": "黑金", "level": "9", "growth_threshold": "50000", "points_multiplier_pct": "200"}
CHECKIN = {"daily_points": "7", "daily_growth": "2", "cycle_days": "", "makeup_window_days": "5",
           "makeup_cost_points": "30", "makeup_monthly_quota": "3",
           "streak_rewards.day": ["7", "3", ""], "streak_rewards.points": ["40", "15", ""],
           "streak_rewards.growth": ["5", "", ""]}


@pytest.fixture
def operator(app, world):
    return ConsoleClient.logged_in(app, OPERATOR)


def a_template(app, name="满100减20") -> int:
    with app.app_context():
        template = coupons.create_template(name=name, kind="threshold_off", amount_off_fen=2000, threshold_fen=10000,
                                           valid_days=30)
        db.session.commit()
        return template.id


def stored(app, model, **where):
    with app.app_context():
        return db.session.execute(select(model).filter_by(**where)).scalar_one_or_none()


def test_the_tier_form_offers_every_known_benefit_key():
    assert {field.name.removeprefix("benefits.") for field in BENEFIT_FIELDS} == set(CHECKS)


def test_an_operator_adds_a_tier_with_benefits_and_a_coupon_pack(app, operator):
    template_id = a_template(app)
    page = operator.get("/console/config").get_data(as_text=True)
    assert 'data-tier="金卡"' in page and f'<option value="{template_id}">满100减20</option>' in page
    reply = operator.post("/console/config/tiers", data={
        **TIER, "benefits.discount_pct": "88", "benefits.free_shipping": "on", "benefits.birthday_points": "",
        "benefits.monthly_coupons.template_id": [str(template_id), ""], "benefits.monthly_coupons.count": ["2", ""]})
    assert reply.status_code == 303, field_errors(reply)
    tier = stored(app, Tier, name="黑金")
    assert (tier.level, tier.growth_threshold, tier.points_multiplier_pct) == (9, 50000, 200)
    assert tier.benefits == {"discount_pct": 88, "free_shipping": True,
                             "monthly_coupons": [{"template_id": template_id, "count": 2}]}
    assert "88折" in operator.get("/console/config").get_data(as_text=True)
    with app.app_context():  # audited by the page machinery, with the row written
        entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.target_type, entry.changes[0]["after"]["name"]) == (
        "console_config.create_tier", "tiers", "黑金")


def test_editing_a_tier_replaces_its_benefits(app, world, operator):
    gold = world.tiers["金卡"]
    page = operator.get(f"/console/config/tiers/{gold}").get_data(as_text=True)
    assert 'name="name" type="text" value="金卡"' in page
    reply = operator.post(f"/console/config/tiers/{gold}", data={
        "name": "黄金", "level": "2", "growth_threshold": str(stored(app, Tier, id=gold).growth_threshold),
        "points_multiplier_pct": "150", "benefits.checkin_multiplier": "on"})
    assert reply.status_code == 303, field_errors(reply)
    tier = stored(app, Tier, id=gold)
    assert (tier.name, tier.points_multiplier_pct, tier.benefits) == ("黄金", 150, {"checkin_multiplier": True})


def test_a_bad_tier_is_the_form_again_with_the_message_and_what_was_typed(app, operator):
    reply = operator.post("/console/config/tiers", data={**TIER, "level": "x"})
    assert reply.status_code == 422 and field_errors(reply) == ["须为整数"]
    assert kept(reply, "name", "黑金") and kept(reply, "growth_threshold", "50000")
    forged = operator.post("/console/config/tiers", data={  # a template the choices never offered
        **TIER, "benefits.upgrade_coupons.template_id": "999", "benefits.upgrade_coupons.count": "1"})
    assert forged.status_code == 422 and field_errors(forged) == ["优惠券模板不存在：999"]
    bad_discount = operator.post("/console/config/tiers", data={**TIER, "benefits.discount_pct": "120"})
    assert bad_discount.status_code == 422 and field_errors(bad_discount) == ["须为 1 到 100 之间的整数"]
    assert stored(app, Tier, name="黑金") is None
    assert stored(app, AuditEntry, action="console_config.create_tier") is None  # a refused write is no entry


def test_an_operator_saves_the_checkin_and_referral_rules(app, operator):
    assert operator.post("/console/config/rules/checkin", data=CHECKIN).status_code == 303
    with app.app_context():
        checkin = settings.load(settings.CheckinRules)
    assert (checkin.daily_points, checkin.daily_growth, checkin.cycle_days, checkin.makeup_cost_points) == (
        7, 2, None, 30)
    assert [(m.day, m.points, m.growth) for m in checkin.streak_rewards] == [(3, 15, 0), (7, 40, 5)]
    reply = operator.post("/console/config/rules/referral", data={
        "qualify_on": "first_purchase", "inviter.points": "200", "inviter.growth": "20", "invitee.points": "80",
        "invitee.growth": "0", "daily_cap": "", "monthly_cap": "30", "reversal_window_days": "14"})
    assert reply.status_code == 303, field_errors(reply)
    with app.app_context():
        referral = settings.load(settings.ReferralRules)
    assert (referral.qualify_on, referral.inviter.points, referral.daily_cap, referral.monthly_cap) == (
        "first_purchase", 200, None, 30)
    page = operator.get("/console/config/rules").get_data(as_text=True)
    assert 'name="daily_points" type="number" value="7"' in page
    assert 'name="streak_rewards.day" type="number" value="3"' in page


def test_bad_checkin_rules_are_refused_with_the_message_and_change_nothing(app, operator):
    reply = operator.post("/console/config/rules/checkin", data={**CHECKIN, "streak_rewards.day": ["3", "3", ""]})
    assert reply.status_code == 422 and field_errors(reply) == ["每个连续签到天数只能出现一次"]
    assert 'name="makeup_cost_points" type="number" value="30"' in reply.get_data(as_text=True)
    with app.app_context():
        assert settings.load(settings.CheckinRules) == settings.CheckinRules()


def test_an_operator_adds_edits_and_deletes_a_task(app, operator):
    reply = operator.post("/console/config/tasks", data={
        "title": "完善资料", "kind": "complete_profile", "recurrence": "once", "target": "1", "reward_points": "50",
        "reward_growth": "", "reward_makeup_cards": "", "enabled": "on", "starts_at": "", "ends_at": "2026-12-31T23:59",
        "sort_order": "0", "description": ""})
    assert reply.status_code == 303, field_errors(reply)
    task = stored(app, Task, title="完善资料")
    assert (task.kind, task.reward_points, task.enabled, task.description) == ("complete_profile", 50, True, None)
    assert task.ends_at.isoformat().startswith("2026-12-31T15:59")  # Asia/Shanghai, stored in UTC
    assert 'data-task="完善资料"' in operator.get("/console/config/tasks").get_data(as_text=True)
    edit = operator.get(f"/console/config/tasks/{task.id}").get_data(as_text=True)
    assert 'name="kind"' not in edit and 'value="2026-12-31T23:59"' in edit  # kind is fixed once created
    reply = operator.post(f"/console/config/tasks/{task.id}", data={"title": "完善个人资料", "reward_points": "60",
                                                                    "target": "1", "ends_at": "", "sort_order": "0"})
    assert reply.status_code == 303, field_errors(reply)
    task = stored(app, Task, id=task.id)
    assert (task.title, task.reward_points, task.enabled, task.ends_at) == ("完善个人资料", 60, False, None)
    assert operator.post(f"/console/config/tasks/{task.id}/delete").status_code == 303
    assert stored(app, Task, id=task.id) is None


def test_a_task_without_a_reward_is_refused_with_the_services_message(app, operator):
    reply = operator.post("/console/config/tasks", data={"title": "签到达人", "kind": "checkin_streak", "target": "7",
                                                         "recurrence": "monthly", "reward_points": "0"})
    assert reply.status_code == 422 and field_errors(reply) == ["任务须至少有一项奖励"]
    assert kept(reply, "title", "签到达人") and kept(reply, "target", "7")
    with app.app_context():
        assert tasks.tasks_page(None, 10) == []


RULE = {"template_id": "TPL-points", "fields.key": ["thing1", "date2", ""],
        "fields.text": ["{points} 积分即将过期", "{expires_on}", ""], "page": "pages/points/index", "enabled": "on"}


def test_an_operator_saves_a_message_rule(app, operator):
    assert 'data-kind="points_expiring"' in operator.get("/console/config/messages").get_data(as_text=True)
    reply = operator.post("/console/config/messages/points_expiring", data=RULE)
    assert reply.status_code == 303, field_errors(reply)
    rule = stored(app, MessageRule, event_kind="points_expiring")
    assert (rule.template_id, rule.fields, rule.page, rule.enabled) == (
        "TPL-points", {"thing1": "{points} 积分即将过期", "date2": "{expires_on}"}, "pages/points/index", True)
    assert rule.updated_by.startswith("admin:")
    page = operator.get("/console/config/messages/points_expiring").get_data(as_text=True)
    assert 'value="{points} 积分即将过期"' in page and "{days_left}" in page  # the kind's placeholders listed


def test_an_unknown_placeholder_is_refused_on_save_and_in_the_preview(app, operator):
    typo = {**RULE, "fields.text": ["{point} 积分即将过期", "{expires_on}", ""]}
    reply = operator.post("/console/config/messages/points_expiring", data=typo)
    assert reply.status_code == 422 and len(field_errors(reply)) == 1
    assert "{point} 不是 points_expiring 的字段" in field_errors(reply)[0]
    assert 'value="{point} 积分即将过期"' in reply.get_data(as_text=True)
    assert stored(app, MessageRule, event_kind="points_expiring") is None
    preview = operator.get("/console/config/messages/points_expiring/preview", query_string=typo)
    assert "{point} 不是 points_expiring 的字段" in preview.get_data(as_text=True)


def test_the_preview_renders_the_sample_as_the_dispatcher_would(app, operator):
    reply = operator.get("/console/config/messages/points_expiring/preview", query_string=RULE)
    with app.app_context():
        expected = rules.preview("points_expiring", {"template_id": "TPL-points", "page": None,
                                                     "fields": {"thing1": "{points} 积分即将过期",
                                                                "date2": "{expires_on}"}})["data"]
    page = reply.get_data(as_text=True)
    assert expected["thing1"]["value"] == "1200 积分即将过期"
    for key, value in expected.items():
        assert f'<dd data-key="{key}">{value["value"]}</dd>' in page
    assert error_code(operator.get("/console/config/messages/no_such_kind")) == "MESSAGE_RULE_NOT_FOUND"


def test_an_operator_adds_and_edits_a_store(app, operator):
    reply = operator.post("/console/config/stores", data={
        "code": "SH-01", "name": "静安店", "address": "南京西路1601号", "opening_hours": "10:00-22:00",
        "latitude": "31.2243", "longitude": "121.4456"})
    assert reply.status_code == 303, field_errors(reply)
    store = stored(app, Store, code="SH-01")
    assert (store.name, store.latitude, store.longitude) == ("静安店", 31.2243, 121.4456)
    reply = operator.post(f"/console/config/stores/{store.id}", data={"name": "静安旗舰店", "address": "",
                                                                      "opening_hours": "09:00-21:00", "latitude": "",
                                                                      "longitude": ""})
    assert reply.status_code == 303, field_errors(reply)
    store = stored(app, Store, id=store.id)
    assert (store.name, store.address, store.opening_hours, store.latitude) == ("静安旗舰店", None, "09:00-21:00", None)


def test_a_taken_store_code_or_a_bad_latitude_is_the_form_again(app, operator):
    taken = operator.post("/console/config/stores", data={"code": "A", "name": "重复"})
    assert taken.status_code == 422 and field_errors(taken) == ["门店编码已存在"] and kept(taken, "name", "重复")
    far = operator.post("/console/config/stores", data={"code": "X1", "name": "远方", "latitude": "91"})
    assert far.status_code == 422
    assert field_errors(far) == ["须在 -90 到 90 之间"]


def test_an_operator_adds_disables_and_resets_a_clerk(app, world, operator):
    store_id = world.stores["A"]
    reply = operator.post(f"/console/config/stores/{store_id}/staff", data={
        "username": "clerk-new", "name": "新店员", "password": "very-secret-1", "role": "clerk"})
    assert reply.status_code == 303, field_errors(reply)
    staff = stored(app, Staff, username="clerk-new")
    assert (staff.store_id, staff.role, staff.active) == (store_id, "clerk", True)
    assert 'data-username="clerk-new"' in operator.get(f"/console/config/stores/{store_id}").get_data(as_text=True)
    assert operator.post(f"/console/config/stores/{store_id}/staff/{staff.id}/disable").status_code == 303
    assert stored(app, Staff, id=staff.id).active is False
    short = operator.post(f"/console/config/stores/{store_id}/staff/{staff.id}/password", data={"password": "short"})
    assert short.status_code == 422 and field_errors(short) == ["长度须在 8 到 128 之间"]
    before = stored(app, Staff, id=staff.id)
    assert operator.post(f"/console/config/stores/{store_id}/staff/{staff.id}/password",
                         data={"password": "another-secret-2"}).status_code == 303
    after = stored(app, Staff, id=staff.id)
    assert after.password_hash != before.password_hash and after.token_version > before.token_version
    taken = operator.post(f"/console/config/stores/{store_id}/staff", data={
        "username": "clerk-new", "name": "重名", "password": "very-secret-1", "role": "clerk"})
    assert taken.status_code == 422 and field_errors(taken) == ["用户名已存在"]


PAGES = {"/console/config": "create-tier", "/console/config/tiers/1": "edit-tier",
         "/console/config/rules": "checkin-rules",
         "/console/config/tasks": "create-task", "/console/config/messages/points_expiring": "message-rule",
         "/console/config/stores": "create-store", "/console/config/stores/1": "create-staff"}
POSTS = {"/console/config/tiers": TIER, "/console/config/rules/checkin": CHECKIN,
         "/console/config/messages/points_expiring": RULE, "/console/config/stores": {"code": "Z", "name": "Z"}}


def test_an_analyst_reads_the_pages_without_write_forms_and_posts_nothing(app, world, operator):
    assert_analysts_only_read(app, ConsoleClient.logged_in(app, ANALYST), operator, PAGES, POSTS)


@pytest.mark.parametrize("path, area", [("/console/config/tasks", "配置"), ("/console/config", "配置"),
                                        ("/console/mall/coupons", "积分商城"), ("/console/members", "会员")])
def test_the_navigation_marks_the_area_a_page_belongs_to(operator, path, area):
    sidebar = operator.get(path).get_data(as_text=True).split('<nav class="sidebar">')[1].split("</nav>")[0]
    current = re.findall(r'class="current">([^<]*)<', sidebar)
    assert current == [area]
