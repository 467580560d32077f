"""The console's 积分商城 pages: items (create, edit, on and off sale, restock), coupon templates,
the coupons a store's code offers, and the orders to ship or cancel. Each lists, writes through
the admin API's service, answers a bad value with the form again (422, the field's message,
what was typed kept), and shows an analyst no write form (a POST is refused)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.mall import categories, coupons, items, redemption, store_coupons
from app.mall.models import CouponTemplate, MallItem, MallOrder
from app.members import service as members
from app.operators.roles import ANALYST, OPERATOR
from app.points import service as ledger
from tests.console_form_helpers import field_errors, kept
from tests.console_helpers import ConsoleClient, assert_analysts_only_read, error_code

ITEM = {"name": "品牌帆布袋", "description": "实物礼品", "kind": "physical", "price_points": "500", "stock": "3",
        "per_member_limit": "1", "limit_period": "month", "min_tier_level": "", "sale_starts_at": "",
        "sale_ends_at": "", "member_day_price_pct": "80", "active": "on"}
TEMPLATE = {"name": "满100减20", "kind": "threshold_off", "amount_off_fen": "2000", "threshold_fen": "10000",
            "valid_days": "30", "active": "on"}
SHIP_TO = {"name": "王小明", "phone": "13800001234", "address": "上海市静安区南京西路1601号"}


@pytest.fixture
def operator(app, world):
    return ConsoleClient.logged_in(app, OPERATOR)


def stored(app, model, **where):
    with app.app_context():
        return db.session.execute(select(model).filter_by(**where)).scalar_one_or_none()


def a_template(app, name="满100减20") -> int:
    with app.app_context():
        template = coupons.create_template(name=name, kind="amount_off", amount_off_fen=500, valid_days=7)
        db.session.commit()
        return template.id


def an_item(app, **fields) -> int:
    with app.app_context():
        item = items.create_item(**{"name": "保温杯", "kind": "physical", "price_points": 300, "stock": 5, **fields})
        db.session.commit()
        return item.id


def test_an_operator_adds_a_physical_and_a_coupon_item(app, operator):
    with app.app_context():
        category_id = categories.create_category(name="生活好物").id
        db.session.commit()
    assert "生活好物" in operator.get("/console/mall").get_data(as_text=True)  # offered in the form's select
    reply = operator.post("/console/mall/items", data={**ITEM, "category_id": str(category_id),
                                                       "image_url": "https://img.example.com/bag.png"})
    assert reply.status_code == 303, field_errors(reply)
    item = stored(app, MallItem, name="品牌帆布袋")
    assert (item.kind, item.price_points, item.stock, item.per_member_limit, item.limit_period, item.min_tier_level,
            item.member_day_price_pct, item.member_day_only, item.active, item.category_id, item.image_url) == (
        "physical", 500, 3, 1, "month", None, 80, False, True, category_id, "https://img.example.com/bag.png")
    template_id = a_template(app)
    reply = operator.post("/console/mall/items", data={"name": "5元券", "kind": "coupon", "price_points": "100",
                                                       "coupon_template_id": str(template_id), "min_tier_level": "1"})
    assert reply.status_code == 303, field_errors(reply)
    coupon_item = stored(app, MallItem, name="5元券")
    assert (coupon_item.coupon_template_id, coupon_item.stock, coupon_item.min_tier_level) == (template_id, None, 1)
    page = operator.get("/console/mall").get_data(as_text=True)
    assert 'data-item="品牌帆布袋"' in page and 'data-item="5元券"' in page


def test_a_bad_item_is_the_form_again_with_the_message(app, operator):
    no_template = operator.post("/console/mall/items", data={**ITEM, "kind": "coupon"})
    assert no_template.status_code == 422
    assert field_errors(no_template) == ["优惠券商品必填，其他商品不能填写"]
    assert kept(no_template, "name", "品牌帆布袋") and kept(no_template, "price_points", "500")
    window = operator.post("/console/mall/items", data={**ITEM, "sale_starts_at": "2026-12-10T10:00",
                                                        "sale_ends_at": "2026-12-01T10:00"})
    assert window.status_code == 422 and field_errors(window) == ["须晚于 sale_starts_at"]
    assert 'value="2026-12-10T10:00"' in window.get_data(as_text=True)
    free = operator.post("/console/mall/items", data={**ITEM, "price_points": "0"})
    assert free.status_code == 422 and field_errors(free) == ["须在 1 到 1000000000 之间"]
    assert stored(app, MallItem, name="品牌帆布袋") is None


def test_an_operator_edits_takes_off_sale_and_restocks_an_item(app, operator):
    item_id = an_item(app)
    page = operator.get(f"/console/mall/items/{item_id}").get_data(as_text=True)
    assert 'name="kind"' not in page and 'name="stock"' not in page  # fixed; stock moves by restocks
    reply = operator.post(f"/console/mall/items/{item_id}", data={"name": "保温杯 500ml", "price_points": "350",
                                                                  "limit_period": "total", "active": "on"})
    assert reply.status_code == 303, field_errors(reply)
    edited = stored(app, MallItem, id=item_id)
    assert (edited.name, edited.price_points, edited.stock) == ("保温杯 500ml", 350, 5)
    assert operator.post(f"/console/mall/items/{item_id}/off-sale").status_code == 303
    assert stored(app, MallItem, id=item_id).active is False
    assert operator.post(f"/console/mall/items/{item_id}/on-sale").status_code == 303
    assert stored(app, MallItem, id=item_id).active is True
    assert operator.post(f"/console/mall/items/{item_id}/restock", data={"delta": "7"}).status_code == 303
    assert stored(app, MallItem, id=item_id).stock == 12
    too_many = operator.post(f"/console/mall/items/{item_id}/restock", data={"delta": "-13"})
    assert too_many.status_code == 422 and field_errors(too_many) == ["减少的数量超过剩余库存，库存不能低于 0"]
    zero = operator.post(f"/console/mall/items/{item_id}/restock", data={"delta": "0"})
    assert zero.status_code == 422 and field_errors(zero) == ["不能为 0"]
    assert stored(app, MallItem, id=item_id).stock == 12


def test_an_operator_adds_a_coupon_template_and_stops_issuing_it(app, world, operator):
    reply = operator.post("/console/mall/coupons", data={**TEMPLATE, "store_ids": [str(world.stores["A"])]})
    assert reply.status_code == 303, field_errors(reply)
    template = stored(app, CouponTemplate, name="满100减20")
    assert (template.kind, template.amount_off_fen, template.threshold_fen, template.valid_days, template.active) == (
        "threshold_off", 2000, 10000, 30, True)
    with app.app_context():
        assert [store.code for store in coupons.get_template(template.id).stores] == ["A"]
    assert "满100元减20元" in operator.get("/console/mall/coupons").get_data(as_text=True)
    edit = operator.get(f"/console/mall/coupons/{template.id}").get_data(as_text=True)
    assert 'name="amount_off_fen"' not in edit  # value, validity and limits are fixed
    assert operator.post(f"/console/mall/coupons/{template.id}", data={"name": "满百减二十"}).status_code == 303
    template = stored(app, CouponTemplate, id=template.id)
    assert (template.name, template.active) == ("满百减二十", False)


def test_a_bad_coupon_template_is_the_form_again_with_the_message(app, operator):
    reply = operator.post("/console/mall/coupons", data={**TEMPLATE, "threshold_fen": "1000"})
    assert reply.status_code == 422 and field_errors(reply) == ["不能小于 amount_off_fen"]
    assert kept(reply, "threshold_fen", "1000")
    both = operator.post("/console/mall/coupons", data={**TEMPLATE, "valid_from": "2026-12-01"})
    assert both.status_code == 422
    assert field_errors(both) == ["有效期须二选一：填写 valid_days，或同时填写 valid_from 和 valid_until"]
    assert stored(app, CouponTemplate, name="满100减20") is None


def test_an_operator_adds_and_removes_a_store_offer(app, world, operator):
    template_id, store_id = a_template(app, "到店礼券"), world.stores["B"]
    assert operator.post(f"/console/mall/offers/{store_id}", data={"template_id": str(template_id)}).status_code == 303
    with app.app_context():
        assert [offer.template.id for offer in store_coupons.store_offers(store_id)] == [template_id]
    page = operator.get("/console/mall/offers").get_data(as_text=True)
    assert 'data-template="到店礼券"' in page
    unknown = operator.post(f"/console/mall/offers/{store_id}", data={"template_id": ""})
    assert unknown.status_code == 422 and field_errors(unknown) == ["须为整数"]
    assert operator.post(f"/console/mall/offers/{store_id}/{template_id}/remove").status_code == 303
    with app.app_context():
        assert store_coupons.store_offers(store_id) == []


def orders_for(app, count: int) -> tuple[int, list[int]]:
    """A member with points who redeemed a physical item `count` times: the orders await shipment."""
    item_id = an_item(app, price_points=100)
    with app.app_context():
        member, _ = members.get_or_create("openid-mall-console", None)
        ledger.adjust_points(member.id, 1000, actor="test", reason="测试积分")
        order_ids = [redemption.redeem(member.id, item_id, SHIP_TO).id for _ in range(count)]
        db.session.commit()
        return member.id, order_ids


def test_an_operator_ships_one_order_and_cancels_another(app, operator):
    member_id, (first, second) = orders_for(app, 2)
    page = operator.get("/console/mall/orders", query_string={"state": "awaiting_shipment"}).get_data(as_text=True)
    assert f'data-order="{first}"' in page and "13800001234" in page and f'id="ship-{first}"' in page
    reply = operator.post(f"/console/mall/orders/{first}/ship", data={"carrier": "顺丰速运", "tracking_no": "SF123456"})
    assert reply.status_code == 303, field_errors(reply)
    order = stored(app, MallOrder, id=first)
    assert (order.state, order.carrier, order.tracking_no) == ("shipped", "顺丰速运", "SF123456")
    assert operator.post(f"/console/mall/orders/{second}/cancel", data={"reason": "缺货"}).status_code == 303
    order = stored(app, MallOrder, id=second)
    assert (order.state, order.cancel_reason) == ("cancelled", "缺货")
    with app.app_context():
        assert members.get_member(member_id).points_balance == 900  # the cancelled order's points came back
    shipped = operator.get("/console/mall/orders", query_string={"state": "shipped"}).get_data(as_text=True)
    assert f'data-order="{first}"' in shipped and f'data-order="{second}"' not in shipped


def test_a_shipment_without_a_tracking_number_is_refused(app, operator):
    _, (order_id,) = orders_for(app, 1)
    reply = operator.post(f"/console/mall/orders/{order_id}/ship", data={"carrier": "顺丰速运", "tracking_no": ""})
    assert reply.status_code == 422
    assert field_errors(reply) == ["长度须在 1 到 64 之间", "格式不正确"]
    assert kept(reply, "carrier", "顺丰速运")
    assert stored(app, MallOrder, id=order_id).state == "awaiting_shipment"
    bad_state = operator.get("/console/mall/orders", query_string={"state": "lost"})
    assert (bad_state.status_code, error_code(bad_state)) == (422, "VALIDATION_ERROR")


def test_an_analyst_reads_the_mall_pages_without_write_forms_and_posts_nothing(app, world, operator):
    item_id, template_id = an_item(app), a_template(app)
    _, (order_id,) = orders_for(app, 1)
    pages = {"/console/mall": "create-item", f"/console/mall/items/{item_id}": "restock",
             "/console/mall/coupons": "create-template", f"/console/mall/coupons/{template_id}": "edit-template",
             "/console/mall/offers": f"add-offer-{world.stores['A']}", "/console/mall/orders": f"ship-{order_id}"}
    assert_analysts_only_read(app, ConsoleClient.logged_in(app, ANALYST), operator, pages, {
        "/console/mall/items": ITEM, f"/console/mall/items/{item_id}/off-sale": {},
        "/console/mall/coupons": TEMPLATE, f"/console/mall/orders/{order_id}/cancel": {}})
