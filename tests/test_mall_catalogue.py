"""The mall as the mini-program shows it: categories that operators name and order, items with an
image, and for an item a member cannot redeem, the code and the Chinese text that the redemption
itself answers."""
from datetime import date

import time_machine

from tests.api_steps import error_code
from tests.mall_steps import (
    ADMIN,
    MEMBER_API,
    create_item,
    create_template,
    created,
    give_points,
    make_members,
    member_caller,
)

NOON = "2026-06-10T04:00:00+00:00"  # noon, Wednesday 10 June 2026, Shanghai
CATEGORIES, ITEMS = f"{ADMIN}/mall-categories", f"{MEMBER_API}/mall/items"


def category(admin, name: str, sort_order: int = 0) -> dict:
    return created(admin.post(CATEGORIES, json={"name": name, "sort_order": sort_order}))


def names(reply) -> list[str]:
    assert reply.status_code == 200, reply.json
    return [row["name"] for row in reply.json["items"]]


@time_machine.travel(NOON, tick=False)
def test_members_see_the_categories_with_something_on_sale_in_the_operators_order(app, world):
    admin, member = world.admin(), member_caller(app, make_members(app, 1)[0])
    coupons, gifts, empty, hidden = (category(admin, "优惠券", 2), category(admin, "实物", 1),
                                     category(admin, "空", 0), category(admin, "下架", 3))
    mug = create_item(admin, name="马克杯", kind="physical", stock=3, category_id=gifts["id"])
    create_item(admin, name="十元券", kind="coupon", coupon_template_id=create_template(admin)["id"],
                category_id=coupons["id"])
    create_item(admin, name="旧品", active=False, category_id=hidden["id"])
    create_item(admin, name="无分类")

    assert names(admin.get(CATEGORIES)) == ["空", "实物", "优惠券", "下架"]
    assert member.get(f"{MEMBER_API}/mall/categories").json == {
        "items": [{"id": gifts["id"], "name": "实物"}, {"id": coupons["id"], "name": "优惠券"}], "next_cursor": None}
    assert names(member.get(f"{ITEMS}?category_id={gifts['id']}")) == ["马克杯"]
    assert names(member.get(f"{ITEMS}?category_id={empty['id']}")) == []
    assert names(member.get(ITEMS)) == ["无分类", "十元券", "马克杯"]
    assert member.get(f"{ITEMS}/{mug['id']}").json["category_id"] == gifts["id"]

    renamed = admin.patch(f"{CATEGORIES}/{gifts['id']}", json={"name": "周边", "sort_order": 5})
    assert (renamed.status_code, renamed.json["name"]) == (200, "周边"), renamed.json
    assert names(member.get(f"{MEMBER_API}/mall/categories")) == ["优惠券", "周边"]


def test_a_category_with_items_is_not_deleted_and_an_item_names_an_existing_one(app, world):
    admin = world.admin()
    gifts, empty = category(admin, "实物"), category(admin, "空")
    item = create_item(admin, category_id=gifts["id"])

    refused = admin.request("DELETE", f"{CATEGORIES}/{gifts['id']}")
    assert (refused.status_code, error_code(refused)) == (409, "CATEGORY_IN_USE")
    assert admin.request("DELETE", f"{CATEGORIES}/{empty['id']}").status_code == 204
    assert names(admin.get(CATEGORIES)) == ["实物"]
    for reply in (admin.post(f"{ADMIN}/mall-items", json={"name": "x", "kind": "virtual", "price_points": 1,
                                                          "category_id": empty["id"]}),
                  admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"category_id": empty["id"]}),
                  admin.patch(f"{CATEGORIES}/{empty['id']}", json={"name": "又来"})):
        assert (reply.status_code, error_code(reply)) == (404, "CATEGORY_NOT_FOUND")
    moved = admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"category_id": None})
    assert moved.json["category_id"] is None
    assert admin.request("DELETE", f"{CATEGORIES}/{gifts['id']}").status_code == 204
    bad = admin.post(CATEGORIES, json={"name": "", "sort_order": 10**6})
    assert set(bad.json["error"]["details"]["fields"]) == {"name", "sort_order"}


def test_an_items_image_is_an_https_url(app, world):
    admin, member = world.admin(), member_caller(app, make_members(app, 1)[0])
    url = "https://img.example.com/mall/mug.jpg"
    item = create_item(admin, image_url=url)
    assert member.get(f"{ITEMS}/{item['id']}").json["image_url"] == url
    for bad in ("http://img.example.com/mug.jpg", "img.example.com/mug.jpg", "https://" + "a" * 500 + ".com/x.jpg",
                "javascript:alert(1)"):
        reply = admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"image_url": bad})
        assert list(reply.json["error"]["details"]["fields"]) == ["image_url"], bad
    cleared = admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"image_url": None})
    assert cleared.json["image_url"] is None


@time_machine.travel(NOON, tick=False)
def test_each_refusal_reads_the_same_in_the_listing_and_in_the_redemptions_error(app, world):
    """The listing's reason and reason_text are the code and message a redemption answers."""
    [member_id] = make_members(app, 1)
    give_points(app, member_id, 1000, expires_on=date(2027, 12, 31))
    member, admin = member_caller(app, member_id), world.admin()
    once_a_template = create_template(admin, per_member_limit=1)
    created(admin.post(f"{ADMIN}/coupon-templates/{once_a_template['id']}/grants",
                       json={"member_id": member_id, "reason": "先发一张"}))
    daily = create_item(admin, per_member_limit=1, limit_period="day")
    assert created(member.post(f"{MEMBER_API}/mall/orders", json={"item_id": daily["id"]}))
    expected = {
        create_item(admin, sale_starts_at="2026-06-11T10:00:00+08:00")["id"]:
            ("ITEM_SALE_NOT_STARTED", "未开始，6月11日 10:00 开始兑换"),
        create_item(admin, sale_starts_at="2026-06-01T00:00:00+08:00", sale_ends_at="2026-06-10T00:00:00+08:00")["id"]:
            ("ITEM_SALE_ENDED", "兑换已结束"),
        create_item(admin, member_day_only=True)["id"]: ("ITEM_MEMBER_DAY_ONLY", "仅会员日（每月18日）可兑换"),
        create_item(admin, min_tier_level=2)["id"]: ("ITEM_TIER_REQUIRED", "需要金卡等级及以上"),
        create_item(admin, min_tier_level=9)["id"]: ("ITEM_TIER_REQUIRED", "会员等级不足"),  # above every tier
        create_item(admin, stock=0)["id"]: ("ITEM_OUT_OF_STOCK", "已售罄"),
        daily["id"]: ("ITEM_LIMIT_REACHED", "今日已达兑换上限"),
        create_item(admin, kind="coupon", coupon_template_id=once_a_template["id"])["id"]:
            ("COUPON_LIMIT_REACHED", "已达到该优惠券的领取上限"),
        create_item(admin, price_points=1001)["id"]: ("POINTS_INSUFFICIENT", "积分不足"),
    }
    for item_id, (code, text) in expected.items():
        offer = member.get(f"{ITEMS}/{item_id}").json
        assert (offer["redeemable"], offer["reason"], offer["reason_text"]) == (False, code, text)
        refused = member.post(f"{MEMBER_API}/mall/orders", json={"item_id": item_id})
        assert (error_code(refused), refused.json["error"]["message"]) == (code, text)
    listed = {offer["id"]: offer["reason_text"] for offer in member.get(f"{ITEMS}?limit=100").json["items"]}
    ended = "兑换已结束"  # an ended sale is not listed
    assert listed == {item_id: text for item_id, (_, text) in expected.items() if text != ended}
