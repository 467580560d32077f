"""Expiring points → a small coupon (积分变现): once per lot, within the reminder window, offered in the reminder."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.batches import run_batches
from app.extensions import db
from app.mall import coupons
from app.mall.models import Coupon
from app.messaging.models import OutboxEvent
from app.points import service as ledger
from app.points.expiry import remind_expiring
from app.points.models import PointLot
from tests.api_steps import error_code
from tests.helpers import assert_ledger_consistent, run_in_threads
from tests.jobs_helpers import new_member
from tests.mall_steps import member_caller

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2028, 2, 1)
NOW = datetime(2028, 2, 1, 12, tzinfo=SHANGHAI)


@pytest.fixture
def conversion(app, world, monkeypatch):
    """The conversion switched on: a ¥5 coupon for 500 points."""
    with app.app_context():
        template = coupons.create_template(name="积分兑5元券", kind="amount_off", amount_off_fen=5_00, valid_days=7)
        db.session.commit()
        monkeypatch.setitem(app.config, "POINTS_CONVERSION_TEMPLATE_ID", template.id)
    monkeypatch.setitem(app.config, "POINTS_CONVERSION_RATE", 500)


def member_with_lots(app, *lots: tuple[int, date]) -> tuple[int, list[int]]:
    with app.app_context():
        member_id = new_member("alice")
        for n, (points, expires_on) in enumerate(lots):
            ledger.credit_points(member_id, points, ledger.Posting(kind="test", key=f"lot{n}"), expires_on=expires_on)
        db.session.commit()
        return member_id, list(db.session.execute(select(PointLot.id).order_by(PointLot.id)).scalars())


def convert(app, member_id: int, lot_id: int):
    with time_machine.travel(NOW, tick=False):
        return member_caller(app, member_id).post(f"/api/v1/member/points/lots/{lot_id}/conversion")


def test_an_expiring_lot_converts_once_into_the_coupon(app, conversion):
    member_id, (lot_id,) = member_with_lots(app, (800, date(2028, 2, 20)))
    first, again = convert(app, member_id, lot_id), convert(app, member_id, lot_id)
    assert first.status_code == again.status_code == 201, first.json
    assert first.json["id"] == again.json["id"] and first.json["source"] == "conversion"
    with app.app_context():
        assert assert_ledger_consistent(member_id)["balance"] == 300
        assert db.session.execute(select(func.count()).select_from(Coupon)).scalar_one() == 1


def test_only_lots_inside_the_reminder_window_with_enough_points_convert(app, conversion):
    member_id, (soon_small, far, soon) = member_with_lots(
        app, (400, date(2028, 2, 5)), (900, date(2028, 3, 5)), (600, date(2028, 3, 2)))  # window ends 2 March
    with time_machine.travel(NOW, tick=False):
        listed = member_caller(app, member_id).get("/api/v1/member/points/conversions").json["items"]
    assert listed == [{"lot_id": soon, "remaining": 600, "expires_on": "2028-03-02"}]
    assert error_code(convert(app, member_id, far)) == "POINTS_CONVERSION_NOT_DUE"
    assert error_code(convert(app, member_id, soon_small)) == "POINTS_INSUFFICIENT"
    assert error_code(convert(app, new_member_id(app), soon)) == "POINTS_LOT_NOT_FOUND"  # not the caller's
    with app.app_context():
        assert assert_ledger_consistent(member_id)["balance"] == 1900  # refusals took nothing


def new_member_id(app) -> int:
    with app.app_context():
        member_id = new_member("bob")
        db.session.commit()
        return member_id


def test_switched_off_nothing_converts(app, world):
    member_id, (lot_id,) = member_with_lots(app, (800, date(2028, 2, 20)))
    assert error_code(convert(app, member_id, lot_id)) == "POINTS_CONVERSION_UNAVAILABLE"


def test_concurrent_conversions_of_a_lot_issue_one_coupon_and_debit_once(app, conversion):
    member_id, (lot_id,) = member_with_lots(app, (1200, date(2028, 2, 20)))
    with time_machine.travel(NOW, tick=False):
        caller = member_caller(app, member_id)
        replies = run_in_threads(4, lambda _: caller.post(f"/api/v1/member/points/lots/{lot_id}/conversion"))
    assert [reply.status_code for reply in replies] == [201] * 4, [reply.json for reply in replies]
    assert len({reply.json["id"] for reply in replies}) == 1
    with app.app_context():
        assert assert_ledger_consistent(member_id)["balance"] == 700


def test_the_points_reminder_offers_the_conversion(app, conversion):
    member_id, _ = member_with_lots(app, (800, date(2028, 2, 5)))
    with app.app_context(), time_machine.travel(NOW, tick=False):
        run_batches(remind_expiring())
        (payload,) = db.session.execute(select(OutboxEvent.payload).where(
            OutboxEvent.kind == "points_expiring", OutboxEvent.member_id == member_id)).scalars()
        template_id = app.config["POINTS_CONVERSION_TEMPLATE_ID"]
    assert payload["conversion"] == {"template_id": template_id, "coupon": "积分兑5元券", "value": "5元代金券",
                                     "points": 500}
