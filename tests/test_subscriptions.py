"""The mini-program reports wx.requestSubscribeMessage's result as it comes, and asks which templates
to request on which page."""
import pytest

from app.extensions import db
from app.messaging.kinds import EventKind
from app.messaging.subscriptions import RequestPage
from tests.jobs_helpers import points_rule

SUBSCRIPTIONS = "/api/v1/member/subscriptions"
OK = "requestSubscribeMessage:ok"


def rules(app, **templates):
    """An enabled rule per event kind, sending the template given (the fields matter not here)."""
    with app.app_context():
        for kind, template_id in templates.items():
            points_rule(template_id, kind=kind, fields={"thing1": "提醒"})
        db.session.commit()


def remaining(member) -> dict[str, int]:
    return {item["template_id"]: item["remaining"] for item in member.get(SUBSCRIPTIONS).json["items"]}


def pages(member) -> dict[str, dict]:
    reply = member.get(f"{SUBSCRIPTIONS}/pages")
    assert reply.status_code == 200, reply.json
    assert reply.json["next_cursor"] is None
    return {item.pop("page"): item for item in reply.json["items"]}


def test_the_success_object_is_reported_as_it_comes_and_only_accept_grants_a_send(app, world):
    rules(app, points_expiring="t-points", coupon_expiring="t-coupon", mall_redeemed="t-mall")
    alice = world.member("alice")
    reply = alice.post(SUBSCRIPTIONS, json={"errMsg": OK, "t-points": "accept", "t-coupon": "reject",
                                            "t-mall": "ban"})
    assert reply.status_code == 200, reply.json
    assert remaining(alice) == {"t-points": 1, "t-coupon": 0, "t-mall": 0}
    alice.post(SUBSCRIPTIONS, json={"errMsg": OK, "t-points": "accept", "t-coupon": "filter",
                                    "t-mall": "acceptWithAudio"})  # WeChat's accept with a voice alert
    assert remaining(alice) == {"t-points": 2, "t-coupon": 0, "t-mall": 1}


@pytest.mark.parametrize("body, field", [
    ({"errMsg": "requestSubscribeMessage:fail cancel", "t-points": "accept"}, "errMsg"),
    ({"t-points": "accept"}, "errMsg"),  # not what wx answers
    ({"errMsg": OK, "t-points": "maybe"}, "t-points"),
    ({"errMsg": OK, "t-points": 1}, "t-points"),
    ({"errMsg": OK}, "_schema"),  # asked for nothing
    ({"errMsg": OK, "a": "accept", "b": "accept", "c": "accept", "d": "accept"}, "_schema"),  # WeChat asks ≤ 3
    ({"errMsg": OK, "x" * 200: "accept"}, "x" * 200),
    ({"results": {"t-points": "accept"}}, "errMsg"),  # the shape before 1.0 is gone
])
def test_a_failed_or_malformed_result_is_422_naming_the_field_and_counts_nothing(app, world, body, field):
    rules(app, points_expiring="t-points")
    alice = world.member("alice")
    reply = alice.post(SUBSCRIPTIONS, json=body)
    assert (reply.status_code, reply.json["error"]["code"]) == (422, "VALIDATION_ERROR")
    assert field in reply.json["error"]["details"]["fields"]
    assert remaining(alice) == {"t-points": 0}


def test_templates_no_enabled_rule_sends_are_422_naming_them(app, world):
    rules(app, points_expiring="t-points", coupon_expiring="t-off")
    with app.app_context():
        points_rule("t-off", kind="coupon_expiring", fields={"thing1": "提醒"}, enabled=False)
        db.session.commit()
    alice = world.member("alice")
    reply = alice.post(SUBSCRIPTIONS, json={"errMsg": OK, "t-points": "accept", "t-off": "accept", "zz": "reject"})
    assert (reply.status_code, reply.json["error"]["code"]) == (422, "SUBSCRIBE_TEMPLATE_UNKNOWN")
    assert reply.json["error"]["details"] == {"template_ids": ["t-off", "zz"]}
    assert remaining(alice) == {"t-points": 0}


def test_every_event_kind_is_asked_for_on_some_page():
    assert {kind for page in RequestPage for kind in page.kinds} == set(EventKind)


def test_each_page_asks_for_the_templates_of_enabled_rules_at_most_three(app, world):
    alice = world.member("alice")
    assert {page: item["template_ids"] for page, item in pages(alice).items()} == {
        page.value: [] for page in RequestPage}  # no rules yet: no page asks

    rules(app, tier_upgraded="t-up", tier_downgrade_warning="t-warn", tier_downgraded="t-down",
          benefit_claimable="t-benefit", points_expiring="t-points", mall_redeemed="t-mall",
          order_shipped="t-mall")  # one template for two kinds: asked for once
    found = pages(alice)
    assert found["card"] == {"label": "会员卡", "template_ids": ["t-up", "t-warn", "t-down"],
                             "event_kinds": ["tier_upgraded", "tier_downgrade_warning", "tier_downgraded"]}
    assert found["mall_order"]["template_ids"] == ["t-mall", "t-points"]
    assert found["mall_order"]["event_kinds"] == ["mall_redeemed", "order_shipped", "points_expiring"]
    assert found["checkin"]["template_ids"] == ["t-points"]
    assert found["invite"]["template_ids"] == []

    # what she already holds gives way to what she has none of
    alice.post(SUBSCRIPTIONS, json={"errMsg": OK, "t-up": "accept"})
    assert pages(alice)["card"]["template_ids"] == ["t-warn", "t-down", "t-benefit"]


def test_one_call_never_mixes_one_time_and_long_term_templates(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SUBSCRIBE_LONG_TERM_TEMPLATES", "t-warn")
    rules(app, tier_upgraded="t-up", tier_downgrade_warning="t-warn", tier_downgraded="t-down")
    alice = world.member("alice")
    assert pages(alice)["card"]["template_ids"] == ["t-up", "t-down"]
    alice.post(SUBSCRIPTIONS, json={"errMsg": OK, "t-up": "accept", "t-down": "accept"})
    assert pages(alice)["card"]["template_ids"] == ["t-warn"]  # first now: she holds none of it
