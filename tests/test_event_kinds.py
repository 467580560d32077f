"""Event kinds are one enum: the outbox writes only its kinds and fields, a rule only its placeholders,
and a rule's preview is what the dispatcher would send."""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.batches import run_batches
from app.extensions import db
from app.messaging import outbox
from app.messaging.kinds import EventKind
from app.messaging.models import Message, MessageRule, OutboxEvent
from app.messaging.service import WROTE_EVENTS, record_event, record_events
from tests.jobs_helpers import new_member, points_rule

ADMIN = "/api/v1/admin"
README = Path(__file__).resolve().parent.parent / "README.md"


def events() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.member_id, OutboxEvent.payload).order_by(OutboxEvent.id))]


def test_one_event_and_many_are_written_the_same_way_and_mark_the_transaction(app, world, ctx):
    alice, bob = new_member("alice"), new_member("bob")
    db.session.commit()
    assert WROTE_EVENTS not in db.session.info
    first = record_event(EventKind.ORDER_SHIPPED, alice, {"order_id": 7, "item_name": "帆布袋"})
    assert db.session.info[WROTE_EVENTS] is True
    more = record_events("points_expiring", [(bob, {"points": 30}), (alice, {"points": 20}), (None, {})])
    assert record_events(EventKind.POINTS_EXPIRING, []) == []
    assert events() == [(first, "order_shipped", alice, {"order_id": 7, "item_name": "帆布袋"}),
                        (more[0], "points_expiring", bob, {"points": 30}),
                        (more[1], "points_expiring", alice, {"points": 20}),
                        (more[2], "points_expiring", None, {})]


@pytest.mark.parametrize("kind, payload", [
    ("order_shiped", {"order_id": 1}),  # a typo of a kind
    ("order_shipped", {"order_id": 1, "item_nam": "x"}),  # a typo of a field
])
def test_an_unknown_kind_or_payload_field_is_refused_before_anything_is_written(app, world, ctx, kind, payload):
    member_id = new_member("alice")
    with pytest.raises(ValueError):
        record_events(kind, [(member_id, {"order_id": 2}), (member_id, payload)])
    assert events() == [] and WROTE_EVENTS not in db.session.info


def test_every_kind_has_a_chinese_label_and_sample_values_for_its_fields():
    for kind in EventKind:
        assert re.search(r"[\u4e00-\u9fff]", kind.label), kind
        assert kind.fields and all(value not in (None, "") for value in kind.sample.values()), kind


def test_the_readme_lists_every_kind_with_its_label_and_fields():
    text = README.read_text()
    for kind in EventKind:
        row = f"| `{kind.value}` | {kind.label} | {', '.join(f'`{name}`' for name in kind.fields)} |"
        assert row in text, row


def test_operators_read_the_kinds_and_the_documents_enum_them(app, world):
    admin = world.admin()
    reply = admin.get(f"{ADMIN}/event-kinds")
    assert reply.status_code == 200
    assert reply.json["next_cursor"] is None
    assert reply.json["items"][9] == {"kind": "referral_rewarded", "label": "邀请奖励到账",
                             "placeholders": ["invitee", "points", "growth", "rewarded_on"],
                             "sample": {"invitee": "新朋友", "points": 100, "growth": 10, "rewarded_on": "2026-12-02"}}
    assert [row["kind"] for row in reply.json["items"]] == [kind.value for kind in EventKind]
    spec = admin.get("/openapi.json").json
    kinds = [kind.value for kind in EventKind]
    schemas = spec["components"]["schemas"]
    assert schemas["MessageRule"]["properties"]["event_kind"]["enum"] == kinds
    assert schemas["Message"]["properties"]["kind"]["enum"] == kinds
    assert schemas["Subscription"]["properties"]["event_kinds"]["items"]["enum"] == kinds
    for path in ("/api/v1/admin/message-rules/{kind}", "/api/v1/admin/message-rules/{kind}/preview"):
        (parameter,) = [p for p in spec["paths"][path]["parameters"] if p["name"] == "kind"]
        assert parameter["schema"]["enum"] == kinds, path


def test_a_rule_naming_a_field_its_kind_lacks_is_refused_and_writes_nothing(app, world):
    admin = world.admin()
    reply = admin.request("PUT", f"{ADMIN}/message-rules/mall_redeemed",
                          json={"template_id": "t", "fields": {"thing1": "{item_nam}兑换成功", "number2": "{points}"}})
    assert (reply.status_code, reply.json["error"]["code"]) == (422, "VALIDATION_ERROR")
    (message,) = reply.json["error"]["details"]["fields"]["fields"]
    assert message.startswith("thing1：{item_nam} 不是 mall_redeemed 的字段；可用：order_id, item_name")
    assert admin.get(f"{ADMIN}/message-rules").json["items"] == []
    good = admin.request("PUT", f"{ADMIN}/message-rules/mall_redeemed",
                         json={"template_id": "t", "fields": {"thing1": "{item_name}兑换成功", "number2": "{points}"}})
    assert good.status_code == 200, good.json


def test_the_preview_of_a_rule_body_is_the_sample_event_fitted_as_wechat_receives_it(app, world):
    rule = {"template_id": "tmpl-order", "page": "pages/orders/index",
            "fields": {"thing1": "{item_name}已由{carrier}发出，请留意查收", "character_string2": "{tracking_no}",
                       "date3": "{shipped_on}", "phrase4": "已发货ok"}}
    reply = world.admin().post(f"{ADMIN}/message-rules/order_shipped/preview", json={"rule": rule})
    assert reply.status_code == 200, reply.json
    assert reply.json == {
        "event_kind": "order_shipped", "label": "兑换商品已发货", "template_id": "tmpl-order",
        "page": "pages/orders/index", "payload": EventKind.ORDER_SHIPPED.sample,
        # 品牌帆布袋已由顺丰速运发出，请留意查收 is 19 characters: kept; the phrase keeps its Chinese only
        "data": {"thing1": {"value": "品牌帆布袋已由顺丰速运发出，请留意查收"},
                 "character_string2": {"value": "SF1234567890"}, "date3": {"value": "2026年12月3日"},
                 "phrase4": {"value": "已发货"}}}
    longer = world.admin().post(f"{ADMIN}/message-rules/order_shipped/preview",
                                json={"rule": rule, "payload": {"item_name": "限量版品牌保温杯礼盒"}})
    # 限量版品牌保温杯礼盒已由顺丰速运发出，请留意查收 is 24 characters: cut to 19 and "…"
    assert longer.json["data"]["thing1"] == {"value": "限量版品牌保温杯礼盒已由顺丰速运发出，…"}
    assert longer.json["payload"]["item_name"] == "限量版品牌保温杯礼盒"


def test_the_preview_of_the_stored_rule_matches_what_the_dispatcher_writes(app, world, ctx):
    points_rule()
    member_id = new_member("alice")
    record_event(EventKind.POINTS_EXPIRING, member_id, dict(EventKind.POINTS_EXPIRING.sample))
    db.session.commit()
    run_batches(outbox.dispatch_pending(lambda ids: None))
    (dispatched,) = db.session.execute(select(Message.data)).scalars()
    db.session.commit()

    reply = world.admin().post(f"{ADMIN}/message-rules/points_expiring/preview", json={})
    assert reply.status_code == 200, reply.json
    assert reply.json["data"] == dispatched == {
        "thing1": {"value": "1200 积分将于 2026-12-3…"}, "date2": {"value": "2026年12月31日"},
        "number3": {"value": "1200"}}


@pytest.mark.parametrize("kind, body, status, field", [
    ("points_expiring", {}, 404, None),  # no stored rule
    ("no_such_event", {}, 404, None),
    ("order_shipped", {"rule": {"template_id": "t", "fields": {"thing1": "{nope}"}}}, 422, "fields"),
    ("order_shipped", {"rule": {"template_id": "t", "fields": {"thing1": "x"}}, "payload": {"nope": "1"}}, 422,
     "payload"),
])
def test_a_preview_that_cannot_be_made_is_refused_and_writes_nothing(app, world, kind, body, status, field):
    reply = world.admin().post(f"{ADMIN}/message-rules/{kind}/preview", json=body)
    assert reply.status_code == status, reply.json
    if field:
        assert list(reply.json["error"]["details"]["fields"]) == [field]
    else:
        assert reply.json["error"]["code"] == "MESSAGE_RULE_NOT_FOUND"
    with app.app_context():
        assert db.session.execute(select(MessageRule)).first() is None
