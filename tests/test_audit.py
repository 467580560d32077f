"""The audit log: every admin write route, called for real, lands exactly one entry naming the
operator, the action and its target, with the rows before and after; a refused request lands
none; secrets never appear; the list filters and pages; console writes land entries too."""
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.campaigns import service as campaigns
from app.clock import local_date, now
from app.extensions import db
from app.layers import segments
from app.operators.models import Operator
from app.operators.roles import ADMIN, ANALYST
from app.security import ADMIN as ADMIN_AUDIENCE
from app.stores.models import Store
from tests.api_routes import UNKEYED_POSTS, audience_routes, token, writes
from tests.console_helpers import ConsoleClient
from tests.engagement_steps import create_task
from tests.helpers import PASSWORD, Caller, add_account
from tests.jobs_helpers import TEMPLATE
from tests.mall_steps import (
    SHIP_TO,
    create_item,
    create_template,
    created,
    give_points,
    issue,
    make_members,
    member_caller,
)

ADMIN_API = "/api/v1/admin"
AUDIT_LOG = f"{ADMIN_API}/audit-log"


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        found = list(db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
        db.session.expunge_all()
        return found


def entry_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def operator_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(select(Operator.id).where(Operator.username == username)).scalar_one()


def every_admin_write(app, world, admin) -> list[tuple[str, str, dict | None]]:
    """A successful call of every admin write route, in an order where each finds what it needs."""
    [member_id] = make_members(app, 1, prefix="audited")
    give_points(app, member_id, 1000, expires_on=date(2027, 12, 31))
    member = member_caller(app, member_id)
    template = create_template(admin)
    item = create_item(admin, kind="physical", price_points=100, stock=5)
    orders = [created(member.post("/api/v1/member/mall/orders", json={"item_id": item["id"], "ship_to": SHIP_TO}))
              for _ in range(2)]
    coupon_id, _ = issue(app, template["id"], member_id)
    tasks = [create_task(world, kind="purchases", target=3)["id"] for _ in range(2)]
    category = created(admin.post(f"{ADMIN_API}/mall-categories", json={"name": "周边"}))["id"]
    with app.app_context():
        other = add_account(Operator, "operator-2", name="二号", role=ADMIN).id
        segment = segments.create_segment("审计人群", {}, actor="test").id
        campaign, recall = (campaigns.create_campaign(actor="test", name=name, segment_id=segment, points=5,
                                                      starts_at=now(), holdout_pct=10, response_days=7,
                                                      recall=name == "召回").id for name in ("活动", "召回"))
        db.session.commit()
    store, tier, clerk = world.stores["A"], world.tiers["普通"], world.staff_ids["clerk-a"]
    return [
        ("POST", "/tiers", {"level": 9, "name": "黑金", "growth_threshold": 10**9}),
        ("PATCH", f"/tiers/{tier}", {"name": "普通会员"}),
        ("POST", f"/members/{member_id}/points-adjustments", {"delta": 50, "reason": "补偿"}),
        ("POST", "/stores", {"code": "C", "name": "门店C"}),
        ("PATCH", f"/stores/{store}", {"name": "静安店"}),
        ("POST", f"/stores/{store}/staff", {"username": "clerk-new", "password": "long-enough-1", "name": "新店员"}),
        ("POST", f"/staff/{clerk}/disable", None),
        ("POST", f"/staff/{clerk}/enable", None),
        ("POST", f"/staff/{clerk}/password", {"password": "long-enough-2"}),
        ("POST", "/operators", {"username": "ops-3", "password": "long-enough-3", "name": "三号", "role": ANALYST}),
        ("POST", f"/operators/{other}/disable", None),
        ("POST", f"/operators/{other}/enable", None),
        ("POST", f"/operators/{other}/password", {"password": "long-enough-4"}),
        ("POST", f"/operators/{other}/role", {"role": ANALYST}),
        ("PUT", "/checkin-rules", admin.get(f"{ADMIN_API}/checkin-rules").json),
        ("PUT", "/referral-rules", admin.get(f"{ADMIN_API}/referral-rules").json),
        ("PUT", "/message-rules/points_expiring", {"template_id": TEMPLATE, "page": "pages/points/index",
                                                   "fields": {"thing1": "{points} 积分即将过期"}}),
        ("POST", "/coupon-templates", {"name": "五元券", "kind": "amount_off", "amount_off_fen": 500,
                                       "valid_days": 30}),
        ("PATCH", f"/coupon-templates/{template['id']}", {"name": "十元好券"}),
        ("POST", f"/coupon-templates/{template['id']}/grants", {"member_id": member_id, "reason": "补发"}),
        ("POST", f"/coupons/{coupon_id}/void", {"reason": "重复发放"}),
        ("POST", f"/stores/{store}/coupon-offers", {"template_id": template["id"]}),
        ("DELETE", f"/stores/{store}/coupon-offers/{template['id']}", None),
        ("POST", "/mall-categories", {"name": "实物", "sort_order": 1}),
        ("PATCH", f"/mall-categories/{category}", {"name": "文创"}),
        ("DELETE", f"/mall-categories/{category}", None),
        ("POST", "/mall-items", {"name": "徽章", "kind": "virtual", "price_points": 10}),
        ("PATCH", f"/mall-items/{item['id']}", {"name": "帆布袋"}),
        ("POST", f"/mall-items/{item['id']}/restocks", {"delta": 5}),
        ("POST", f"/mall-orders/{orders[0]['id']}/cancel", {}),
        ("POST", f"/mall-orders/{orders[1]['id']}/shipments", {"carrier": "顺丰", "tracking_no": "SF1"}),
        ("POST", "/tasks", {"title": "消费3次", "kind": "purchases", "target": 3, "reward_points": 10}),
        ("PATCH", f"/tasks/{tasks[0]}", {"title": "完善资料2"}),
        ("DELETE", f"/tasks/{tasks[1]}", None),
        ("POST", "/segments/preview", {"conditions": {"layers": ["at_risk"]}}),
        ("POST", "/segments", {"name": "流失预警", "conditions": {"layers": ["at_risk"]}}),
        ("POST", "/campaigns", {"name": "回归礼", "segment_id": segment, "points": 5, "starts_at": now().isoformat()}),
        ("POST", f"/campaigns/{campaign}/launch", None),
        ("PUT", "/churn-recall", {"campaign_id": recall, "enabled": True}),
        ("POST", "/jobs/expire_coupons/runs", None),
        ("POST", "/password", {"current_password": PASSWORD, "new_password": "long-enough-5"}),
    ]


def test_every_admin_write_route_lands_one_entry(app, world):
    """A write route added later without a call here fails the first assertion: add its call."""
    admin = world.admin()
    me = operator_id(app, "operator")
    calls = every_admin_write(app, world, admin)
    covered = set()
    for method, path, body in calls:
        before = entry_count(app)
        reply = admin.request(method, ADMIN_API + path, json=body)
        assert reply.status_code < 300, (method, path, reply.json)
        new = entries(app)[before:]
        assert [(entry.operator_id, entry.method, entry.path) for entry in new] == [(me, method, ADMIN_API + path)]
        covered.add((method, new[0].action))
    # last, with a new login: the password change ended the token used so far
    login = Caller(app).post("/api/v1/auth/admin/login", json={"username": "operator", "password": "long-enough-5"})
    assert Caller(app, login.json["token"]).post(f"{ADMIN_API}/logout").status_code == 204
    covered.add(("POST", entries(app)[-1].action))
    # a POST that changes nothing (a preview) has nothing to audit
    expected = {(route.method, route.rule.endpoint) for route in audience_routes(app, "admin")
                if writes(route) and str(route) not in UNKEYED_POSTS}
    assert covered == expected


def test_an_entry_holds_who_what_and_the_changed_columns_before_and_after(app, world):
    admin = world.admin()
    tier = world.tiers["银卡"]
    reply = admin.patch(f"{ADMIN_API}/tiers/{tier}", json={"name": "白银", "points_multiplier_pct": 125})
    assert reply.status_code == 200
    [entry] = entries(app)
    assert (entry.operator_name, entry.action, entry.method, entry.target_type, entry.target_id) == \
        ("Operator", "admin.update_tier", "PATCH", "tier", str(tier))
    assert entry.arguments == {"query": {}, "body": {"name": "白银", "points_multiplier_pct": 125}}
    assert entry.changes == [{"table": "tiers", "id": tier, "op": "update",
                              "before": {"name": "银卡", "points_multiplier_pct": 120},
                              "after": {"name": "白银", "points_multiplier_pct": 125}}]
    assert entry.changes_count == 1 and entry.request_id == reply.headers["X-Request-Id"]


def test_a_new_row_is_the_target_when_the_path_names_none(app, world):
    reply = world.admin().post(f"{ADMIN_API}/stores", json={"code": "Z", "name": "新店"})
    [entry] = entries(app)
    assert (entry.target_type, entry.target_id) == ("stores", str(reply.json["id"]))
    [change] = entry.changes
    assert (change["op"], change["before"], change["after"]["code"]) == ("insert", None, "Z")


def test_passwords_never_reach_the_log(app, world):
    admin = world.admin()
    clerk = world.staff_ids["clerk-a"]
    assert admin.post(f"{ADMIN_API}/staff/{clerk}/password", json={"password": "secret-horse-7"}).status_code == 200
    assert admin.post(f"{ADMIN_API}/operators", json={"username": "x1", "password": "secret-horse-8", "name": "x",
                                                      "role": ANALYST}).status_code == 201
    logged = [entry.arguments for entry in entries(app)] + [entry.changes for entry in entries(app)]
    assert "secret-horse" not in str(logged)
    assert entries(app)[0].arguments["body"] == {"password": "***"}
    assert entries(app)[0].changes[0]["after"]["password_hash"] == "***"


def test_a_refused_or_failed_write_and_a_read_land_nothing(app, world):
    admin = world.admin()
    assert admin.post(f"{ADMIN_API}/tiers", json={"level": 1}).status_code == 422
    assert admin.post(f"{ADMIN_API}/tiers", json={"level": 1, "name": "重复", "growth_threshold": 0}).status_code == 409
    assert admin.post(f"{ADMIN_API}/operators/999/disable").status_code == 404
    assert admin.get(f"{ADMIN_API}/tiers").status_code == 200
    analyst = Caller(app, token(app, ADMIN_AUDIENCE, _account(app, "ana", ANALYST)))
    assert analyst.post(f"{ADMIN_API}/stores", json={"code": "Q", "name": "q"}).status_code == 403
    assert entries(app) == []


def _account(app, username: str, role: str) -> int:
    with app.app_context():
        account_id = add_account(Operator, username, name=username, role=role).id
        db.session.commit()
        return account_id


def test_an_entry_keeps_the_first_rows_and_counts_them_all(app, world):
    """60 rows in one request (as a campaign granting coupons would write): 50 kept, 60 counted."""
    with app.app_context():
        operator = db.session.execute(select(Operator)).scalar_one()
        audit.begin(operator, "test.bulk", "POST", "/bulk", {}, {}, "")
        db.session.add_all(Store(code=f"S{i}", name=f"店{i}") for i in range(60))
        db.session.commit()
    [entry] = entries(app)
    assert (len(entry.changes), entry.changes_count) == (audit.CHANGES_KEPT, 60)
    assert [change["after"]["code"] for change in entry.changes[:2]] == ["S0", "S1"]


def test_console_writes_land_entries_with_the_form_minus_secrets(app, world):
    client = ConsoleClient.logged_in(app, ADMIN, "boss")
    reply = client.post("/console/accounts", data={"username": "new-one", "name": "新人", "password": "long-enough-1",
                                                   "role": ANALYST})
    assert reply.status_code == 303
    [entry] = entries(app)
    assert (entry.operator_name, entry.action, entry.target_type) == ("admin 测试", "console_accounts.create",
                                                                      "operators")
    assert entry.arguments == {"query": {}, "form": {"username": "new-one", "name": "新人", "password": "***",
                                                     "role": ANALYST}}


def test_the_log_lists_newest_first_filters_and_pages(app, world):
    admin = world.admin()
    me = operator_id(app, "operator")
    for code in ("P1", "P2", "P3"):
        assert admin.post(f"{ADMIN_API}/stores", json={"code": code, "name": code}).status_code == 201
    tier = world.tiers["金卡"]
    assert admin.patch(f"{ADMIN_API}/tiers/{tier}", json={"name": "黄金"}).status_code == 200
    analyst = Caller(app, token(app, ADMIN_AUDIENCE, _account(app, "reader", ANALYST)))
    everything = analyst.get(AUDIT_LOG).json
    assert [entry["action"] for entry in everything["items"]] == ["admin.update_tier"] + ["admin.create_store"] * 3
    assert everything["next_cursor"] is None

    def actions(**query):
        reply = analyst.get(AUDIT_LOG, query_string=query)
        assert reply.status_code == 200, reply.json
        return [(entry["action"], entry["target_id"]) for entry in reply.json["items"]]

    assert actions(target_type="tier", target_id=str(tier)) == [("admin.update_tier", str(tier))]
    assert len(actions(action="admin.create_store")) == 3
    assert len(actions(operator_id=me)) == 4 and actions(operator_id=me + 100) == []
    with app.app_context():  # the business day the entries were written on (BUSINESS_TZ)
        today = local_date(now())
    day = timedelta(days=1)
    assert len(actions(**{"from": today.isoformat(), "to": today.isoformat()})) == 4
    assert actions(**{"from": (today + day).isoformat()}) == [] and actions(to=(today - day).isoformat()) == []
    first = analyst.get(AUDIT_LOG, query_string={"limit": 3}).json
    rest = analyst.get(AUDIT_LOG, query_string={"limit": 3, "cursor": first["next_cursor"]}).json
    assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    one = analyst.get(f"{AUDIT_LOG}/{first['items'][0]['id']}")
    assert one.json["changes"][0]["after"] == {"name": "黄金"}
    assert analyst.get(f"{AUDIT_LOG}/999999").json["error"]["code"] == "AUDIT_ENTRY_NOT_FOUND"
    assert analyst.get(AUDIT_LOG, query_string={"from": "not-a-day"}).status_code == 422


def test_the_console_lists_and_filters_the_log(app, world):
    admin = world.admin()
    assert admin.post(f"{ADMIN_API}/stores", json={"code": "K1", "name": "K1"}).status_code == 201
    tier = world.tiers["金卡"]
    assert admin.patch(f"{ADMIN_API}/tiers/{tier}", json={"name": "黄金"}).status_code == 200
    client = ConsoleClient.logged_in(app, ANALYST)
    page = client.get("/console/audit").get_data(as_text=True)
    assert page.count("admin.update_tier</code>") == 1 and page.count("admin.create_store</code>") == 1
    filtered = client.get("/console/audit?action=admin.update_tier").get_data(as_text=True)
    assert "admin.create_store</code>" not in filtered and "admin.update_tier</code>" in filtered
    [entry] = [e for e in entries(app) if e.action == "admin.update_tier"]
    detail = client.get(f"/console/audit/{entry.id}").get_data(as_text=True)
    assert "黄金" in detail and "金卡" in detail


def test_a_bulk_insert_counts_each_row(app, world):
    """An INSERT of many rows in one executemany (the way a campaign grants 100k coupons) counts them all."""
    with app.app_context():
        operator = db.session.execute(select(Operator)).scalar_one()
        audit.begin(operator, "test.bulk_insert", "POST", "/bulk", {}, {}, "")
        db.session.execute(insert(Store), [{"code": f"B{i}", "name": f"店{i}"} for i in range(120)])
        db.session.commit()
    [entry] = entries(app)
    assert (len(entry.changes), entry.changes_count) == (audit.CHANGES_KEPT, 120)
    assert entry.changes[0] == {"table": "stores", "id": None, "op": "insert", "before": None,
                                "after": {"code": "B0", "name": "店0"}, "statement": True}
