"""Rules across fields live in the services, so whoever writes (the API, a job, the CLI, the
console) gets the same refusal, and a PATCH is checked as the row it leaves, not as the
fields it sends (the schemas could only see the fields)."""
from datetime import date

import pytest

from app.errors import AppError
from app.extensions import db
from app.mall import coupons, items
from tests.api_steps import error_code
from tests.engagement_steps import TASKS, create_task, operator
from tests.mall_steps import ADMIN, create_item


def refused_field(reply) -> list[str]:
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR"), reply.json
    return list(reply.json["error"]["details"]["fields"])


def test_a_patch_cannot_leave_a_task_that_could_never_be_done_or_pays_nothing(app, world):
    admin = operator(app)
    once = create_task(world, kind="bind_phone")
    assert refused_field(admin.patch(f"{TASKS}/{once['id']}", json={"target": 5})) == ["target"]
    assert refused_field(admin.patch(f"{TASKS}/{once['id']}", json={"reward_points": 0})) == ["reward_points"]
    assert refused_field(admin.post(TASKS, json={"title": "任务", "kind": "first_purchase", "target": 2,
                                                 "reward_points": 10})) == ["target"]
    kept = admin.get(TASKS).json["items"]
    assert [(task["target"], task["reward_points"]) for task in kept] == [(1, 10)]


def test_a_patch_of_one_end_of_a_sale_window_is_checked_against_the_other(app, world):
    admin = operator(app)
    item = create_item(admin, sale_starts_at="2026-06-11T00:00:00+08:00")
    reply = admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"sale_ends_at": "2026-06-10T00:00:00+08:00"})
    assert refused_field(reply) == ["sale_ends_at"]
    assert admin.get(f"{ADMIN}/mall-items").json["items"][0]["sale_ends_at"] is None


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "threshold_off", "amount_off_fen": 20_00, "threshold_fen": 10_00, "valid_days": 7}, "threshold_fen"),
    ({"kind": "amount_off", "valid_days": 7}, "amount_off_fen"),
    ({"kind": "gift", "gift_name": "咖啡", "valid_days": 7, "valid_until": "2026-12-31"}, "valid_days"),
])
def test_a_service_caller_gets_the_schemas_refusal_for_a_coupon_template(app, world, ctx, fields, field):
    values = {name: date.fromisoformat(value) if name.startswith("valid_") and isinstance(value, str) else value
              for name, value in fields.items()}
    with pytest.raises(AppError) as refused:
        coupons.create_template(name="券", **values)
    assert (refused.value.code, list(refused.value.details["fields"])) == ("VALIDATION_ERROR", [field])
    db.session.rollback()


def test_a_service_caller_cannot_make_a_coupon_item_without_a_template(app, world, ctx):
    with pytest.raises(AppError) as refused:
        items.create_item(name="券", kind="coupon", price_points=10)
    assert list(refused.value.details["fields"]) == ["coupon_template_id"]
