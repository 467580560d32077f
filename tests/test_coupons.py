"""Coupons: templates, codes, validity, issue limits (also under 200 concurrent claims),
the member's own list, grants, voiding, expiry, and the audit trail of every change."""
import re
from datetime import datetime, timezone

import pytest
import segno
import time_machine
from sqlalchemy import select

from app.batches import run_batches
from app.extensions import db
from app.mall import codes, coupons
from app.mall.models import Coupon, CouponEvent, CouponTemplate
from tests.api_steps import error_code
from tests.helpers import run_in_threads, statements_run
from tests.mall_steps import ADMIN, MEMBER_API, create_template, created, in_own_transaction, issue, make_members

# Noon in Shanghai on 3 June 2026.
NOON = "2026-06-03T04:00:00+00:00"


def grant(admin, template_id: int, member_id: int, reason: str = "客诉补偿"):
    return admin.post(f"{ADMIN}/coupon-templates/{template_id}/grants", json={"member_id": member_id, "reason": reason})


def history(app, coupon_id: int) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(CouponEvent.from_state, CouponEvent.to_state, CouponEvent.actor, CouponEvent.reason)
            .where(CouponEvent.coupon_id == coupon_id).order_by(CouponEvent.id))]


# --- codes -------------------------------------------------------------------------------


def test_a_code_is_13_crockford_characters_carrying_65_random_bits():
    drawn = {codes.new_code() for _ in range(2000)}
    assert len(drawn) == 2000
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{13}", code) for code in drawn)
    assert codes.BITS == 13 * 5 >= 64
    # every position uses the whole alphabet: no fixed prefix, checksum or id inside
    assert all(len({code[position] for code in drawn}) == 32 for position in range(13))


def test_reading_a_code_forgives_case_spaces_hyphens_and_look_alike_letters():
    code = "0123456789ABC"
    assert codes.normalize(" oi23-4567 89abc ") == code
    assert codes.normalize("Ol23456789abc") == code
    assert codes.normalize(codes.grouped(code)) == code
    for bad in ("0123456789AB", "0123456789ABCD", "0123456789ABU", "", "!!!!!!!!!!!!!"):
        assert codes.normalize(bad) is None


def test_ten_thousand_guessed_codes_name_no_coupon(app, world):
    """Guesses checked against the table in one set-based query each way: none exists."""
    template = create_template(world.admin())
    member_ids = make_members(app, 10)
    guesses = {codes.new_code() for _ in range(10_000)}
    with app.app_context():
        issued = {coupons.issue_coupon(template["id"], member_id, "grant", actor="test").code
                  for member_id in member_ids for _ in range(10)}
        db.session.commit()
        found = set(db.session.execute(select(Coupon.code).where(Coupon.code.in_(guesses))).scalars())
        stored = set(db.session.execute(select(Coupon.code)).scalars())
    assert stored == issued and len(issued) == 100 and len(guesses) == 10_000
    assert found == set() == guesses & issued


# --- templates and validity -----------------------------------------------------------------


@pytest.mark.parametrize("fields, bad_field", [
    ({"kind": "amount_off", "amount_off_fen": None}, "amount_off_fen"),
    ({"kind": "percent_off", "percent_off": 100}, "percent_off"),
    ({"kind": "threshold_off", "amount_off_fen": 50_00, "threshold_fen": 30_00}, "threshold_fen"),
    ({"kind": "gift"}, "gift_name"),
    ({"valid_days": None}, "valid_days"),
    ({"valid_days": 3, "valid_from": "2026-06-01", "valid_until": "2026-06-30"}, "valid_days"),
    ({"valid_days": None, "valid_from": "2026-06-30", "valid_until": "2026-06-01"}, "valid_until"),
    ({"total_limit": 0}, "total_limit"),
    ({"kind": "cash"}, "kind"),
])
def test_an_inconsistent_template_is_refused_naming_the_field(app, world, fields, bad_field):
    body = {"name": "券", "kind": "amount_off", "amount_off_fen": 10_00, "valid_days": 30, **fields}
    reply = world.admin().post(f"{ADMIN}/coupon-templates", json={k: v for k, v in body.items() if v is not None})
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
    assert bad_field in reply.json["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.execute(select(CouponTemplate)).first() is None


def test_each_kind_describes_its_value_in_words(world):
    admin = world.admin()
    kinds = [
        ({"kind": "amount_off", "amount_off_fen": 10_50}, "10.5元代金券"),
        ({"kind": "threshold_off", "amount_off_fen": 20_00, "threshold_fen": 100_00}, "满100元减20元"),
        ({"kind": "percent_off", "percent_off": 15, "max_off_fen": 50_00}, "8.5折，最高减50元"),
        ({"kind": "percent_off", "percent_off": 20, "threshold_fen": 30_00}, "8折（满30元可用）"),
        ({"kind": "gift", "gift_name": "拿铁一杯"}, "兑换：拿铁一杯"),
    ]
    assert [create_template(admin, **fields)["summary"] for fields, _ in kinds] == [text for _, text in kinds]


@time_machine.travel("2026-06-03T15:30:00+00:00", tick=False)  # 23:30 on 3 June in Shanghai
def test_n_days_from_issue_counts_the_day_of_issue_and_ends_at_local_midnight(app, world):
    template = create_template(world.admin(), valid_days=7)
    [member_id] = make_members(app, 1)
    coupon_id, _ = issue(app, template["id"], member_id)
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert coupon.valid_from == datetime(2026, 6, 3, 15, 30, tzinfo=timezone.utc)
        assert coupon.valid_until == datetime(2026, 6, 9, 16, 0, tzinfo=timezone.utc)  # 10 June 00:00 local


@time_machine.travel(NOON, tick=False)
def test_a_fixed_window_runs_from_the_first_local_day_to_the_end_of_the_last(app, world):
    template = create_template(world.admin(), valid_days=None, valid_from="2026-06-10", valid_until="2026-06-20")
    [member_id] = make_members(app, 1)
    coupon_id, _ = issue(app, template["id"], member_id)
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert coupon.valid_from == datetime(2026, 6, 9, 16, 0, tzinfo=timezone.utc)
        assert coupon.valid_until == datetime(2026, 6, 20, 16, 0, tzinfo=timezone.utc)


def test_a_coupon_reads_its_first_and_last_business_day_and_the_days_left_until_it_cannot_be_used(app, world):
    admin, alice = world.admin(), world.member("alice")

    def shown(coupon_id):
        coupon = alice.get(f"{MEMBER_API}/coupons/{coupon_id}").json
        return coupon["first_day"], coupon["last_day"], coupon["days_left"]

    with time_machine.travel("2026-06-03T15:30:00+00:00", tick=False):  # 23:30 on 3 June in Shanghai
        three_days = create_template(admin, name="3天券", valid_days=3)
        later = create_template(admin, name="下周券", valid_days=None, valid_from="2026-06-10",
                                valid_until="2026-06-20")
        short = created(grant(admin, three_days["id"], alice.member_id))
        upcoming = created(grant(admin, later["id"], alice.member_id))
        voided = created(grant(admin, three_days["id"], alice.member_id))
        assert admin.post(f"{ADMIN}/coupons/{voided['id']}/void", json={"reason": "测试"}).status_code == 200
        assert shown(short["id"]) == ("2026-06-03", "2026-06-05", 2)
        assert alice.get(f"{MEMBER_API}/coupons/{short['id']}").json["valid_until"] == "2026-06-06T00:00:00+08:00"
        assert shown(upcoming["id"]) == ("2026-06-10", "2026-06-20", 17)  # not usable yet: counted to its end
        assert shown(voided["id"])[2] is None
    with time_machine.travel("2026-06-05T15:59:59+00:00", tick=False):  # 23:59:59 on its last day
        assert shown(short["id"])[2] == 0
        assert alice.get(f"{MEMBER_API}/coupons").json["items"][0]["days_left"] == 0  # the list says it too
    with time_machine.travel("2026-06-05T16:00:00+00:00", tick=False):  # 6 June: it ended
        assert shown(short["id"]) == ("2026-06-03", "2026-06-05", None)


@time_machine.travel(NOON, tick=False)
def test_a_template_past_its_window_or_switched_off_issues_nothing(app, world):
    admin = world.admin()
    ended = create_template(admin, valid_days=None, valid_from="2026-05-01", valid_until="2026-06-02")
    stopped = create_template(admin)
    assert admin.patch(f"{ADMIN}/coupon-templates/{stopped['id']}", json={"active": False}).status_code == 200
    member = world.member("alice")
    for template in (ended, stopped):
        assert error_code(grant(admin, template["id"], member.member_id)) == "COUPON_TEMPLATE_CLOSED"
    assert member.get(f"{MEMBER_API}/coupons").json["items"] == []


# --- limits ------------------------------------------------------------------------------


def test_the_per_member_limit_and_the_total_limit_hold(app, world):
    admin = world.admin()
    template = create_template(admin, total_limit=3, per_member_limit=2)
    alice, bob = world.member("alice"), world.member("bob")
    assert grant(admin, template["id"], alice.member_id).status_code == 201
    assert grant(admin, template["id"], alice.member_id).status_code == 201
    refused = grant(admin, template["id"], alice.member_id)
    assert (refused.status_code, error_code(refused)) == (409, "COUPON_LIMIT_REACHED")
    assert refused.json["error"]["details"] == {"per_member_limit": 2}
    assert grant(admin, template["id"], bob.member_id).status_code == 201
    assert error_code(grant(admin, template["id"], bob.member_id)) == "COUPON_SOLD_OUT"
    assert admin.get(f"{ADMIN}/coupon-templates/{template['id']}").json["issued_count"] == 3


def test_200_concurrent_claims_of_a_template_limited_to_50_issue_exactly_50(app, world, is_postgres):
    """200 members grab at once (SQLite: 60 grabbing 20): exactly the limit is issued,
    the counter says so, everyone else is told it is sold out, and nobody gets two."""
    claims, limit = (200, 50) if is_postgres else (60, 20)
    template = create_template(world.admin(), total_limit=limit, per_member_limit=1)
    member_ids = make_members(app, claims)

    results = run_in_threads(claims, lambda i: in_own_transaction(app, lambda: coupons.issue_coupon(
        template["id"], member_ids[i], "store_claim", actor="test").id))

    issued = [result for result in results if isinstance(result, int)]
    assert len(issued) == limit
    assert sorted(result for result in results if not isinstance(result, int)) == ["COUPON_SOLD_OUT"] * (claims - limit)
    with app.app_context():
        owners = db.session.execute(select(Coupon.member_id).where(Coupon.template_id == template["id"])).scalars()
        assert len(set(owners)) == limit
        assert db.session.get(CouponTemplate, template["id"]).issued_count == limit


def test_one_member_claiming_20_times_at_once_gets_only_their_limit(app, world):
    template = create_template(world.admin(), per_member_limit=3)
    [member_id] = make_members(app, 1)

    results = run_in_threads(20, lambda _: in_own_transaction(app, lambda: coupons.issue_coupon(
        template["id"], member_id, "store_claim", actor="test").member_seq))
    assert sorted(map(str, results)) == ["1", "2", "3"] + ["COUPON_LIMIT_REACHED"] * 17
    with app.app_context():
        seqs = db.session.execute(select(Coupon.member_seq).where(Coupon.member_id == member_id)).scalars().all()
    assert sorted(seqs) == [1, 2, 3]


# --- the member's coupons -------------------------------------------------------------------


def test_a_member_lists_their_coupons_by_tab_soonest_expiring_first_in_pages(app, world):
    admin = world.admin()
    alice, bob = world.member("alice"), world.member("bob")
    with time_machine.travel(NOON, tick=False):
        long, short, middle = (create_template(admin, name=f"{days}天券", valid_days=days) for days in (30, 3, 10))
        for template in (long, short, middle):
            created(grant(admin, template["id"], alice.member_id))
        bobs = created(grant(admin, long["id"], bob.member_id))
        first = alice.get(f"{MEMBER_API}/coupons?limit=2").json
        assert [c["name"] for c in first["items"]] == ["3天券", "10天券"]
        rest = alice.get(f"{MEMBER_API}/coupons?limit=2&cursor={first['next_cursor']}").json
        assert ([c["name"] for c in rest["items"]], rest["next_cursor"]) == (["30天券"], None)
        assert bobs["id"] not in {c["id"] for c in first["items"] + rest["items"]}
        assert alice.get(f"{MEMBER_API}/card").json["coupons_count"] == 3
        # bob's cursor in alice's list finds nothing of bob's either
        assert alice.get(f"{MEMBER_API}/coupons?cursor={bobs['id']}").json["items"] == []
    with time_machine.travel("2026-06-06T04:00:00+00:00", tick=False):  # the 3-day coupon ended on 5 June
        assert [c["name"] for c in alice.get(f"{MEMBER_API}/coupons").json["items"]] == ["10天券", "30天券"]
        expired = alice.get(f"{MEMBER_API}/coupons?status=expired").json["items"]
        assert [(c["name"], c["state"]) for c in expired] == [("3天券", "expired")]
        assert alice.get(f"{MEMBER_API}/card").json["coupons_count"] == 2


def test_a_coupon_shows_its_code_as_text_and_as_a_qr_image_to_its_owner_only(app, world):
    admin = world.admin()
    alice, bob = world.member("alice"), world.member("bob")
    coupon = created(grant(admin, create_template(admin)["id"], alice.member_id))
    detail = alice.get(f"{MEMBER_API}/coupons/{coupon['id']}").json
    assert codes.normalize(detail["code"]) == detail["code"] and detail["code_grouped"] == codes.grouped(detail["code"])
    image = alice.get(f"{MEMBER_API}/coupons/{coupon['id']}/qr.png")
    assert (image.status_code, image.mimetype) == (200, "image/png")
    assert image.data.startswith(b"\x89PNG")
    assert image.data == _qr_png(detail["code"])
    for path in (f"{MEMBER_API}/coupons/{coupon['id']}", f"{MEMBER_API}/coupons/{coupon['id']}/qr.png"):
        reply = bob.get(path)
        assert (reply.status_code, error_code(reply)) == (404, "COUPON_NOT_FOUND")
        assert detail["code"] not in reply.get_data(as_text=True)
    assert bob.get(f"{MEMBER_API}/coupons").json["items"] == []


def _qr_png(text: str) -> bytes:
    import io

    png = io.BytesIO()
    segno.make_qr(text, error="m").save(png, kind="png", scale=8, border=2)
    return png.getvalue()


# --- grants, voiding, expiry and the audit trail ---------------------------------------------


def test_an_operator_grant_and_void_are_recorded_with_who_and_why(app, world):
    admin = world.admin()
    alice = world.member("alice")
    coupon = created(grant(admin, create_template(admin)["id"], alice.member_id, reason="生日补发"))
    assert coupon["source"] == "grant"
    voided = admin.post(f"{ADMIN}/coupons/{coupon['id']}/void", json={"reason": "重复发放"})
    assert voided.status_code == 200 and voided.json["state"] == "voided"
    again = admin.post(f"{ADMIN}/coupons/{coupon['id']}/void", json={"reason": "重复发放"})
    assert (again.status_code, error_code(again), again.json["error"]["details"]) == (
        409, "COUPON_NOT_VOIDABLE", {"state": "voided"})
    operator = f"admin:{_operator_id(app)}"
    assert history(app, coupon["id"]) == [(None, "issued", operator, "生日补发"),
                                          ("issued", "voided", operator, "重复发放")]
    audited = admin.get(f"{ADMIN}/coupons/{coupon['id']}").json
    assert [(e["from_state"], e["to_state"]) for e in audited["history"]] == [(None, "issued"), ("issued", "voided")]
    assert alice.get(f"{MEMBER_API}/coupons?status=voided").json["items"][0]["id"] == coupon["id"]
    assert alice.get(f"{MEMBER_API}/card").json["coupons_count"] == 0


def _operator_id(app) -> int:
    from app.operators.models import Operator

    with app.app_context():
        return db.session.execute(select(Operator.id)).scalar_one()


def test_the_expiry_sweep_records_each_lapsed_coupon_once(app, world):
    admin = world.admin()
    [member_id] = make_members(app, 1)
    with time_machine.travel(NOON, tick=False):
        short, long = create_template(admin, valid_days=1), create_template(admin, valid_days=5)
        lapsing, _ = issue(app, short["id"], member_id)
        staying, _ = issue(app, long["id"], member_id)
    with time_machine.travel("2026-06-04T04:00:00+00:00", tick=False), app.app_context():
        assert run_batches(coupons.expire_coupons()) == {"expired": 1}
        assert run_batches(coupons.expire_coupons()) == {"expired": 0}
        db.session.commit()
    assert history(app, lapsing)[-1] == ("issued", "expired", "system", None)
    assert len(history(app, staying)) == 1


def test_the_expiry_sweep_works_in_bounded_batches_until_none_is_left(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "COUPON_EXPIRY_BATCH", 2)
    template = create_template(world.admin(), valid_days=1)
    members = make_members(app, 5)
    with time_machine.travel(NOON, tick=False):
        for member_id in members:
            issue(app, template["id"], member_id)
    with time_machine.travel("2026-06-04T04:00:00+00:00", tick=False), app.app_context():
        with statements_run("UPDATE coupons") as updates:
            assert run_batches(coupons.expire_coupons()) == {"expired": 5}
        assert len(updates) == 4  # 2 + 2 + 1, then one that finds none left
        states = db.session.execute(select(Coupon.state)).scalars().all()
    assert states == ["expired"] * 5
