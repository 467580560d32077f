"""Every time in a reply is in the business zone's offset (BUSINESS_TZ), through one field type;
inputs take any offset. The CSV export and the audit log's rows too."""
import csv
import io

import time_machine
from marshmallow import class_registry, fields

import app.api  # noqa: F401  (the schemas register as their modules are imported)
from app.api.schemas import ZonedDateTime
from tests.api_steps import bought

NOON = "2026-06-15T04:00:00+00:00"  # noon in Shanghai
NOON_HERE = "2026-06-15T12:00:00+08:00"
ADMIN = "/api/v1/admin"


def test_every_time_field_of_every_schema_is_the_zoned_type(app):
    """A schema that writes fields.DateTime would answer in UTC: it fails here, by name."""
    schemas = {cls for classes in class_registry._registry.values() for cls in classes
               if cls.__module__.startswith("app.api")}
    assert len(schemas) > 50, "the registry was not read"
    plain = sorted(f"{cls.__module__}.{cls.__name__}.{name}" for cls in schemas
                   for name, field in cls._declared_fields.items()
                   if isinstance(field, fields.DateTime) and not isinstance(field, ZonedDateTime))
    assert plain == []


@time_machine.travel(NOON, tick=False)
def test_replies_show_times_in_the_configured_zone(app, world, monkeypatch):
    alice, clerk = world.member("alice"), world.staff()
    purchase = bought(clerk, alice.member_id, 100_00)
    assert purchase["created_at"] == NOON_HERE
    (entry,) = alice.get("/api/v1/member/points/entries").json["items"]
    assert entry["created_at"] == NOON_HERE

    monkeypatch.setitem(app.config, "BUSINESS_TZ", "America/New_York")  # the setting, not a constant
    (entry,) = alice.get("/api/v1/member/points/entries").json["items"]
    assert entry["created_at"] == "2026-06-15T00:00:00-04:00"


@time_machine.travel(NOON, tick=False)
def test_an_input_time_may_carry_any_offset_and_comes_back_in_the_zone(app, world):
    admin = world.admin()
    segment = admin.post(f"{ADMIN}/segments", json={"name": "全部", "conditions": {}})
    assert segment.status_code == 201, segment.json
    body = {"name": "回归礼", "segment_id": segment.json["id"], "points": 5}
    utc = admin.post(f"{ADMIN}/campaigns", json={**body, "starts_at": "2026-06-16T02:30:00Z"})
    assert utc.status_code == 201, utc.json
    assert utc.json["starts_at"] == "2026-06-16T10:30:00+08:00"
    paris = admin.post(f"{ADMIN}/campaigns", json={**body, "starts_at": "2026-06-16T04:30:00+02:00"})
    assert paris.json["starts_at"] == "2026-06-16T10:30:00+08:00"
    naive = admin.post(f"{ADMIN}/campaigns", json={**body, "starts_at": "2026-06-16T10:30:00"})
    assert naive.status_code == 422 and "starts_at" in naive.json["error"]["details"]["fields"]


@time_machine.travel(NOON, tick=False)
def test_the_member_export_and_the_audit_log_show_local_times(app, world):
    world.member("alice")
    admin = world.admin()
    rows = list(csv.reader(io.StringIO(admin.get(f"{ADMIN}/members/export.csv").text.lstrip("\ufeff"))))
    assert rows[1][rows[0].index("注册时间")] == NOON_HERE

    rule = {"template_id": "tmpl-points", "fields": {"thing1": "{points} 积分即将过期"}}
    reply = admin.request("PUT", f"{ADMIN}/message-rules/points_expiring", json=rule)
    assert reply.status_code == 200, reply.json
    (entry,) = admin.get(f"{ADMIN}/audit-log").json["items"]
    assert entry["at"] == NOON_HERE
    (change,) = entry["changes"]
    assert change["after"]["updated_at"] == NOON_HERE  # the row as recorded, shown in the console too
