"""A physical order's address: taken as wx.chooseAddress gives it, checked with the wx keys named,
stored normalized, given back in the same shape; the phone masked in the operators' lists; no
address (SQL NULL) on other orders."""
import json
from datetime import date

import pytest
import time_machine
from sqlalchemy import text

from app.extensions import db
from tests.api_steps import error_code
from tests.mall_steps import (
    ADDRESS,
    ADMIN,
    MEMBER_API,
    SHIP_TO,
    create_item,
    created,
    give_points,
    make_members,
    member_caller,
)

NOON = "2026-06-10T04:00:00+00:00"
ORDERS = f"{MEMBER_API}/mall/orders"


@pytest.fixture
def buyer(app, world):
    """A member with points, a physical item with stock, and the admin caller."""
    [member_id] = make_members(app, 1, prefix="buyer")
    give_points(app, member_id, 10_000, expires_on=date(2027, 12, 31))
    admin = world.admin()
    return member_caller(app, member_id), admin, create_item(admin, kind="physical", price_points=100, stock=50)


def order_with(member, item: dict, **changes):
    return member.post(ORDERS, json={"item_id": item["id"], "ship_to": {**SHIP_TO, **changes}})


def stored_ship_to(app, order_id: int):
    """The column as stored (psycopg decodes JSON; SQLite gives its text)."""
    with app.app_context():
        stored = db.session.execute(text("SELECT ship_to FROM mall_orders WHERE id = :id"), {"id": order_id}).scalar()
    return json.loads(stored) if isinstance(stored, str) else stored


@time_machine.travel(NOON, tick=False)
def test_the_address_is_stored_normalized_and_given_back_as_wx_gives_it(app, buyer):
    member, admin, item = buyer
    order = created(order_with(member, item, userName="  张三 ", telNumber="+86 138-0013-8000", postalCode=""))
    assert order["ship_to"] == {**ADDRESS, "postalCode": None}
    assert member.get(f"{ORDERS}/{order['id']}").json["ship_to"] == order["ship_to"]
    assert stored_ship_to(app, order["id"]) == {
        "name": "张三", "phone": "13800138000", "province": "上海市", "city": "上海市", "district": "静安区",
        "detail": "南京西路1601号", "postcode": None}
    landline = created(order_with(member, item, telNumber="020-81167888", countyName=""))
    assert (landline["ship_to"]["telNumber"], landline["ship_to"]["countyName"]) == ("020-81167888", "")


@time_machine.travel(NOON, tick=False)
def test_a_bad_address_is_refused_naming_the_wx_keys_and_writes_nothing(app, buyer):
    member, admin, item = buyer
    for changes, key in (({"telNumber": "12345"}, "telNumber"), ({"telNumber": "1380013800a"}, "telNumber"),
                         ({"userName": "张" * 33}, "userName"), ({"detailInfo": "   "}, "detailInfo"),
                         ({"provinceName": None}, "provinceName"), ({"postalCode": "2000"}, "postalCode"),
                         ({"cityName": 310000}, "cityName")):
        reply = order_with(member, item, **changes)
        assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
        assert list(reply.json["error"]["details"]["fields"]["ship_to"]) == [key], changes
    missing = member.post(ORDERS, json={"item_id": item["id"], "ship_to": {"userName": "张三"}})
    assert set(missing.json["error"]["details"]["fields"]["ship_to"]) == {
        "telNumber", "provinceName", "cityName", "detailInfo"}
    assert admin.get(f"{ADMIN}/mall-orders").json["items"] == []


@time_machine.travel(NOON, tick=False)
def test_operators_lists_mask_the_phone_and_the_orders_own_page_shows_it(app, buyer):
    member, admin, item = buyer
    order = created(order_with(member, item))
    masked = {**ADDRESS, "telNumber": "138****8000"}
    for listing in (f"{ADMIN}/mall-orders", f"{ADMIN}/mall-orders?state=awaiting_shipment",
                    f"{ADMIN}/members/{member.member_id}/mall-orders"):
        assert [o["ship_to"] for o in admin.get(listing).json["items"]] == [masked], listing
    assert admin.get(f"{ADMIN}/mall-orders/{order['id']}").json["ship_to"] == ADDRESS
    shipped = admin.post(f"{ADMIN}/mall-orders/{order['id']}/shipments", json={"carrier": "顺丰", "tracking_no": "SF1"})
    assert shipped.json["ship_to"] == ADDRESS
    assert error_code(admin.get(f"{ADMIN}/mall-orders/{order['id'] + 1}")) == "MALL_ORDER_NOT_FOUND"


@time_machine.travel(NOON, tick=False)
def test_an_order_that_ships_nothing_stores_no_address(app, buyer):
    member, admin, _ = buyer
    order = created(member.post(ORDERS, json={"item_id": create_item(admin)["id"], "ship_to": SHIP_TO}))
    assert order["ship_to"] is None
    with app.app_context():
        assert db.session.execute(text("SELECT ship_to IS NULL FROM mall_orders WHERE id = :id"),
                                  {"id": order["id"]}).scalar() in (True, 1)
