"""Operators: the tier ladder, member views, the ledger, point adjustments, stores and staff."""
from sqlalchemy import select

from app.demo import TIERS
from app.extensions import db
from app.operators.models import Operator
from tests.api_steps import bought, consistent_ledger, error_code
from tests.helpers import Caller

TIERS_URL = "/api/v1/admin/tiers"


def adjustments_url(member_id: int) -> str:
    return f"/api/v1/admin/members/{member_id}/points-adjustments"


def ladder(admin) -> list[tuple]:
    return [(tier["level"], tier["name"], tier["growth_threshold"]) for tier in admin.get(TIERS_URL).json["items"]]


def test_tiers_are_listed_lowest_first_with_their_benefits(world):
    reply = world.admin().get(TIERS_URL)
    assert reply.status_code == 200
    assert [(t["level"], t["name"], t["growth_threshold"], t["points_multiplier_pct"], t["benefits"])
            for t in reply.json["items"]] == [tuple(row) for row in TIERS]
    assert reply.json["next_cursor"] is None  # the ladder is one page
    assert reply.json == world.member().get("/api/v1/member/tiers").json  # members see the same ladder


def test_a_new_top_tier_extends_the_ladder(world):
    admin = world.admin()
    reply = admin.post(TIERS_URL, json={"level": 4, "name": "黑金", "growth_threshold": 50000,
                                        "points_multiplier_pct": 250, "benefits": {"discount_pct": 85}})
    assert reply.status_code == 201, reply.json
    assert {key: reply.json[key] for key in ("level", "name", "growth_threshold", "points_multiplier_pct",
                                             "benefits")} == {"level": 4, "name": "黑金", "growth_threshold": 50000,
                                                              "points_multiplier_pct": 250,
                                                              "benefits": {"discount_pct": 85}}
    assert ladder(admin)[-1] == (4, "黑金", 50000)

    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 20000_00)
    assert alice.get("/api/v1/member/card").json["next_tier"] == {
        "name": "黑金", "level": 4, "growth_threshold": 50000, "growth_needed": 30000}


def test_a_tier_that_breaks_the_ladder_is_tier_conflict(world):
    admin = world.admin()
    before = ladder(admin)
    for level, threshold, why in ((4, 15000, "a higher level below a lower level's threshold"),
                                  (2, 30000, "a level already taken"),
                                  (5, 5000, "a threshold already taken")):
        reply = admin.post(TIERS_URL, json={"level": level, "name": "新等级", "growth_threshold": threshold})
        assert (reply.status_code, error_code(reply)) == (409, "TIER_CONFLICT"), why
        assert ladder(admin) == before, why


def test_an_update_that_breaks_the_ladder_is_tier_conflict_and_changes_nothing(world):
    admin = world.admin()
    before = ladder(admin)
    for tier, change, why in (("银卡", {"growth_threshold": 6000}, "above 金卡's 5000"),
                              ("钻石", {"level": 0}, "the entry tier's level"),
                              ("普通", {"growth_threshold": 10}, "the entry tier must need no growth"),
                              ("金卡", {"growth_threshold": 20000}, "钻石's threshold")):
        reply = admin.patch(f"{TIERS_URL}/{world.tiers[tier]}", json=change)
        assert (reply.status_code, error_code(reply)) == (409, "TIER_CONFLICT"), why
        assert ladder(admin) == before, why


def test_a_tier_is_renamed_and_retuned(world):
    admin = world.admin()
    reply = admin.patch(f"{TIERS_URL}/{world.tiers['银卡']}",
                        json={"name": "白银", "points_multiplier_pct": 130, "benefits": {"discount_pct": 97}})
    assert reply.status_code == 200, reply.json
    assert (reply.json["name"], reply.json["growth_threshold"], reply.json["points_multiplier_pct"],
            reply.json["benefits"]) == ("白银", 1000, 130, {"discount_pct": 97})
    assert ladder(admin)[1] == (1, "白银", 1000)

    renamed = admin.patch(f"{TIERS_URL}/{world.tiers['银卡']}", json={"name": "白银卡"}).json
    # fields a PATCH leaves out keep their values (no defaults filled in)
    assert (renamed["points_multiplier_pct"], renamed["benefits"]) == (130, {"discount_pct": 97})


def test_updating_an_unknown_tier_is_tier_not_found(world):
    reply = world.admin().patch(f"{TIERS_URL}/999999", json={"name": "x"})
    assert (reply.status_code, error_code(reply)) == (404, "TIER_NOT_FOUND")


def test_a_lowered_threshold_applies_at_the_members_next_growth(world):
    """As documented: changing a threshold does not re-tier members until their growth changes."""
    alice, clerk = world.member("alice"), world.staff()
    bought(clerk, alice.member_id, 600_00)
    assert world.admin().patch(f"{TIERS_URL}/{world.tiers['银卡']}", json={"growth_threshold": 500}).status_code == 200
    assert alice.get("/api/v1/member/card").json["tier"]["name"] == "普通"
    bought(clerk, alice.member_id, 1_00)
    assert alice.get("/api/v1/member/card").json["tier"]["name"] == "银卡"


def test_the_member_view(world):
    alice = world.member("alice")
    alice.patch("/api/v1/member/profile", json={"nickname": "Alice", "gender": "female", "birthday": "1990-05-01"})
    alice.post("/api/v1/member/phone", json={"code": "phone-13800138000"})
    bought(world.staff(), alice.member_id, 1200_00)

    reply = world.admin().get(f"/api/v1/admin/members/{alice.member_id}")
    assert reply.status_code == 200, reply.json
    view = reply.json
    assert view["created_at"]
    del view["created_at"]
    assert view == {
        "member_id": alice.member_id, "card_no": alice.get("/api/v1/member/card").json["card_no"],
        "nickname": "Alice", "phone": "138****8000", "tier": "银卡", "tier_level": 1, "discount_pct": 98,
        "points_balance": 1200, "growth": 1200, "openid": "fake-openid-alice", "birthday": "1990-05-01",
        "gender": "female", "layer": None,  # no RFM run yet (tests/test_layers.py shows one)
    }


def test_an_unknown_member_is_member_not_found(world):
    admin = world.admin()
    for reply in (admin.get("/api/v1/admin/members/999999"),
                  admin.get("/api/v1/admin/members/999999/points/entries"),
                  admin.post(adjustments_url(999999), json={"delta": 5, "reason": "补偿积分"})):
        assert (reply.status_code, error_code(reply)) == (404, "MEMBER_NOT_FOUND")


def operator_scope(app) -> str:
    with app.app_context():
        return f"admin:{db.session.execute(select(Operator.id).where(Operator.username == 'operator')).scalar_one()}"


def test_points_adjustments_are_entries_that_name_the_operator_and_the_reason(app, world):
    alice, admin = world.member("alice"), world.admin()
    credit = admin.post(adjustments_url(alice.member_id), json={"delta": 100, "reason": "门店活动补偿"})
    assert credit.status_code == 201, credit.json
    assert {key: credit.json[key] for key in ("account", "delta", "kind", "actor", "reason")} == {
        "account": "points", "delta": 100, "kind": "adjust", "actor": operator_scope(app), "reason": "门店活动补偿"}

    debit = admin.post(adjustments_url(alice.member_id), json={"delta": -30, "reason": "误发积分收回"})
    assert (debit.status_code, debit.json["delta"]) == (201, -30)
    assert alice.get("/api/v1/member/card").json["points"]["balance"] == 70

    own = alice.get("/api/v1/member/points/entries").json["items"]  # the member sees why, too
    assert [(entry["delta"], entry["reason"]) for entry in own] == [(-30, "误发积分收回"), (100, "门店活动补偿")]
    assert consistent_ledger(app, alice.member_id)["balance"] == 70


def test_a_negative_adjustment_beyond_the_balance_is_points_insufficient_and_writes_nothing(app, world):
    alice, admin = world.member("alice"), world.admin()
    admin.post(adjustments_url(alice.member_id), json={"delta": 70, "reason": "补偿积分"})
    reply = admin.post(adjustments_url(alice.member_id), json={"delta": -71, "reason": "扣回积分"})
    assert (reply.status_code, error_code(reply)) == (409, "POINTS_INSUFFICIENT")
    assert reply.json["error"]["details"] == {"balance": 70, "required": 71}
    assert len(admin.get(f"/api/v1/admin/members/{alice.member_id}/points/entries").json["items"]) == 1
    assert consistent_ledger(app, alice.member_id)["balance"] == 70


def test_the_ledger_is_listed_newest_first_by_cursor(world):
    alice, admin = world.member("alice"), world.admin()
    bought(world.staff(), alice.member_id, 10_00)
    for delta in (1, 2, 3, 4):
        admin.post(adjustments_url(alice.member_id), json={"delta": delta, "reason": f"第{delta}次"})
    url = f"/api/v1/admin/members/{alice.member_id}/points/entries"

    everything = admin.get(url, query_string={"limit": 100}).json
    assert everything["next_cursor"] is None
    assert [entry["delta"] for entry in everything["items"]] == [4, 3, 2, 1, 10]

    pages, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = admin.get(url, query_string=query).json
        pages.append([entry["id"] for entry in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(ids) for ids in pages] == [2, 2, 1]
    assert sum(pages, []) == [entry["id"] for entry in everything["items"]]

    growth = admin.get(url, query_string={"account": "growth"}).json["items"]
    assert [(entry["account"], entry["kind"], entry["delta"]) for entry in growth] == [("growth", "purchase", 10)]


def test_stores_are_created_once_per_code(world):
    admin = world.admin()
    created = admin.post("/api/v1/admin/stores", json={"code": "SZ-01", "name": "深圳万象城店"})
    assert created.status_code == 201, created.json
    assert (created.json["code"], created.json["name"]) == ("SZ-01", "深圳万象城店")

    taken = admin.post("/api/v1/admin/stores", json={"code": "SZ-01", "name": "另一家"})
    assert (taken.status_code, error_code(taken)) == (409, "STORE_CODE_TAKEN")
    assert [store["code"] for store in admin.get("/api/v1/admin/stores").json["items"]] == ["SZ-01", "B", "A"]


def test_new_staff_can_log_in_and_work_in_their_store_only(app, world):
    admin = world.admin()
    store_id = admin.post("/api/v1/admin/stores", json={"code": "SZ-01", "name": "深圳万象城店"}).json["id"]
    account = {"username": "sz.manager", "password": "long-enough-1", "name": "店长", "role": "manager"}
    created = admin.post(f"/api/v1/admin/stores/{store_id}/staff", json=account)
    assert created.status_code == 201, created.json
    assert created.json == {"id": created.json["id"], "store_id": store_id, "username": "sz.manager",
                            "name": "店长", "role": "manager", "active": True}  # never the password

    login = Caller(app).post("/api/v1/auth/staff/login", json={"username": "sz.manager", "password": "long-enough-1"})
    assert login.status_code == 200, login.json
    manager = Caller(app, login.json["token"])
    alice = world.member("alice")
    purchase = bought(manager, alice.member_id, 100_00)
    assert (purchase["store_id"], purchase["staff_id"]) == (store_id, created.json["id"])
    assert manager.post(f"/api/v1/staff/purchases/{purchase['id']}/refunds",
                        json={"refund_no": "R1", "amount_fen": 10_00}).status_code == 201
    assert error_code(world.staff("clerk-a").get(f"/api/v1/staff/purchases/{purchase['id']}")) == "STORE_FORBIDDEN"

    wrong = Caller(app).post("/api/v1/auth/staff/login", json={"username": "sz.manager", "password": "wrong-pass-1"})
    assert (wrong.status_code, error_code(wrong)) == (401, "AUTH_BAD_CREDENTIALS")


def test_staff_roles_default_to_clerk(world):
    reply = world.admin().post(f"/api/v1/admin/stores/{world.stores['A']}/staff",
                               json={"username": "new-clerk", "password": "long-enough-1", "name": "小新"})
    assert (reply.status_code, reply.json["role"]) == (201, "clerk")


def test_a_username_is_taken_across_all_stores(world):
    admin = world.admin()
    for username in ("clerk-a", "clerk-b"):  # one in this store, one in another
        reply = admin.post(f"/api/v1/admin/stores/{world.stores['A']}/staff",
                           json={"username": username, "password": "long-enough-1", "name": "重名"})
        assert (reply.status_code, error_code(reply)) == (409, "USERNAME_TAKEN"), username


def test_staff_for_an_unknown_store_is_store_not_found(world):
    reply = world.admin().post("/api/v1/admin/stores/999999/staff",
                               json={"username": "ghost", "password": "long-enough-1", "name": "幽灵"})
    assert (reply.status_code, error_code(reply)) == (404, "STORE_NOT_FOUND")
