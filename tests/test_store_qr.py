"""Store mini-program codes (through the fake WeChat over HTTP), attribution of members to
the first store whose code they open, and the store's coupon claimed after a visit."""
import io
from urllib.parse import quote

import segno
from sqlalchemy import select

from app.extensions import db
from app.mall.models import CouponEvent
from app.stores.models import HomeStore, StoreVisit
from tests.api_routes import snapshot
from tests.api_steps import error_code
from tests.helpers import run_in_threads
from tests.mall_steps import (
    ADMIN,
    MEMBER_API,
    count,
    create_template,
    created,
    make_members,
    member_caller,
    store_scene,
)

PAGE = "pages/store/index"  # STORE_QR_PAGE's default


def visit(member, scene_text: str):
    return member.post(f"{MEMBER_API}/store-visits", json={"scene": scene_text})


def open_code(member, store_id: int):
    return visit(member, store_scene(member.app, store_id))


def claim(member, store_id: int, template_id: int):
    return member.post(f"{MEMBER_API}/stores/{store_id}/coupon-claims", json={"template_id": template_id})


def offer(admin, store_id: int, template_id: int):
    return admin.post(f"{ADMIN}/stores/{store_id}/coupon-offers", json={"template_id": template_id})


def test_a_stores_code_is_a_wxacode_naming_the_store_in_its_store_scene(app, world, fake_wechat):
    store_id = world.stores["A"]
    image = world.admin().get(f"{ADMIN}/stores/{store_id}/qr.png")
    assert (image.status_code, image.mimetype) == (200, "image/png")
    expected = io.BytesIO()
    segno.make(f"{PAGE}?scene={store_scene(app, store_id)}").save(expected, kind="png", scale=4)
    assert image.data == expected.getvalue()  # the fake draws exactly what WeChat was asked for
    [call] = fake_wechat.calls("/wxa/getwxacodeunlimit")
    assert (call["json"]["scene"], call["json"]["page"]) == (store_scene(app, store_id), PAGE)
    longest = store_scene(app, 999_999_999)
    assert longest.startswith("s=999999999.") and len(longest) <= 32  # WeChat's limit for a scene


def test_an_unknown_store_has_no_code_and_a_wechat_failure_is_an_error_not_a_picture(app, world, fake_wechat):
    admin = world.admin()
    assert error_code(admin.get(f"{ADMIN}/stores/999/qr.png")) == "STORE_NOT_FOUND"
    assert fake_wechat.calls("/wxa/getwxacodeunlimit") == []
    fake_wechat.control(fail={"path": "/wxa/getwxacodeunlimit", "errcode": -1})
    reply = admin.get(f"{ADMIN}/stores/{world.stores['A']}/qr.png")
    assert (reply.status_code, error_code(reply), reply.headers.get("Retry-After")) == (503, "WECHAT_UNAVAILABLE", "5")


def test_the_first_store_opened_becomes_the_home_store_and_stays(app, world):
    alice = world.member("alice")
    first = created(open_code(alice, world.stores["B"]))
    assert (first["store"]["id"], first["home_store_id"]) == (world.stores["B"], world.stores["B"])
    later = created(open_code(alice, world.stores["A"]))
    assert (later["store"]["name"], later["home_store_id"]) == ("Store A", world.stores["B"])
    assert count(app, StoreVisit, StoreVisit.member_id == alice.member_id) == 2


def test_twenty_first_openings_at_once_in_two_stores_make_one_home_store(app, world):
    [member_id] = make_members(app, 1)
    member = member_caller(app, member_id)
    stores = [world.stores["A"], world.stores["B"]]
    replies = run_in_threads(20, lambda i: open_code(member, stores[i % 2]))
    assert {reply.status_code for reply in replies} == {201}
    with app.app_context():
        [home] = db.session.execute(select(HomeStore).where(HomeStore.member_id == member_id)).scalars().all()
    assert {reply.json["home_store_id"] for reply in replies} == {home.store_id}
    assert count(app, StoreVisit) == 20


def test_a_scene_that_names_no_store_is_refused_and_records_nothing(app, world):
    alice = world.member("alice")
    store_a, store_b = world.stores["A"], world.stores["B"]
    genuine = store_scene(app, store_a)
    other_tag = genuine[:-1] + ("1" if genuine.endswith("0") else "0")
    before = snapshot(app)
    for forged in (f"store={store_a}", f"s={store_a}", genuine[:-1], other_tag, genuine.lower(), genuine + "x",
                   genuine.replace(f"s={store_a}.", f"s={store_b}."), store_scene(app, 999), "shop=1"):
        reply = visit(alice, forged)
        assert (reply.status_code, error_code(reply)) == (404, "STORE_SCENE_INVALID"), forged
    assert snapshot(app) == before


def test_the_scene_is_accepted_url_encoded_as_onload_receives_it(app, world):
    encoded = quote(store_scene(app, world.stores["A"]), safe="")
    assert encoded.startswith(f"s%3D{world.stores['A']}.")
    visited = created(visit(world.member("alice"), encoded))
    assert visited["store"]["id"] == world.stores["A"]


def test_a_member_claims_the_stores_coupon_after_opening_its_code_within_its_limits(app, world):
    admin, store_a = world.admin(), world.stores["A"]
    welcome = create_template(admin, name="到店礼", total_limit=2, per_member_limit=1, store_ids=[store_a])
    not_offered = create_template(admin, name="别的券")
    offers = created(offer(admin, store_a, welcome["id"]))["items"]
    assert [(o["template"]["name"], o["available"]) for o in offers] == [("到店礼", True)]
    alice, bob, carol = world.member("alice"), world.member("bob"), world.member("carol")

    assert error_code(claim(alice, store_a, welcome["id"])) == "STORE_NOT_VISITED"
    visit = created(open_code(alice, store_a))
    assert [o["template"]["id"] for o in visit["offers"]] == [welcome["id"]]
    coupon = created(claim(alice, store_a, welcome["id"]))
    assert (coupon["source"], coupon["name"], len(coupon["code"])) == ("store_claim", "到店礼", 13)
    assert error_code(claim(alice, store_a, welcome["id"])) == "COUPON_LIMIT_REACHED"
    assert error_code(claim(alice, store_a, not_offered["id"])) == "STORE_OFFER_NOT_FOUND"
    assert error_code(claim(alice, world.stores["B"], welcome["id"])) == "STORE_OFFER_NOT_FOUND"
    for member in (bob, carol):
        created(open_code(member, store_a))
    created(claim(bob, store_a, welcome["id"]))
    assert error_code(claim(carol, store_a, welcome["id"])) == "COUPON_SOLD_OUT"
    assert [o["available"] for o in created(open_code(carol, store_a))["offers"]] == [False]
    with app.app_context():
        issued_at = db.session.execute(select(CouponEvent.store_id, CouponEvent.actor).where(
            CouponEvent.coupon_id == coupon["id"])).all()
    assert [tuple(row) for row in issued_at] == [(store_a, f"member:{alice.member_id}")]


def test_an_operator_lists_and_withdraws_a_stores_coupon(app, world):
    admin, store_a = world.admin(), world.stores["A"]
    template = create_template(admin)
    created(offer(admin, store_a, template["id"]))
    assert created(offer(admin, store_a, template["id"])) == admin.get(f"{ADMIN}/stores/{store_a}/coupon-offers").json
    assert error_code(offer(admin, 999, template["id"])) == "STORE_NOT_FOUND"
    assert error_code(offer(admin, store_a, 999)) == "COUPON_TEMPLATE_NOT_FOUND"
    withdraw = f"{ADMIN}/stores/{store_a}/coupon-offers/{template['id']}"
    assert admin.request("DELETE", withdraw).status_code == 204
    assert error_code(admin.request("DELETE", withdraw)) == "STORE_OFFER_NOT_FOUND"
    member = world.member("alice")
    created(open_code(member, store_a))
    assert error_code(claim(member, store_a, template["id"])) == "STORE_OFFER_NOT_FOUND"
