"""The dashboard and tier numbers against a hand-computed fixture: four members over two weeks
(purchases, a refund that takes an upgrade back, an expiry, a spend, check-ins, coupons,
benefits), rolled up by the job at 00:40 and read on 2028-03-10 with that day's activity live.

The 7-day preset is 03-04..03-10, its previous period 02-26..03-03. Points (kind: points):
alice  02-28 purchase 200, lot 100 (expires 03-06), 03-01 check-in 5, 03-05 purchase 1000
       (→ 银卡), 03-07 the lot expires -100, refund of 600 of 1000 yuan -600 (→ 普通),
       03-08 spends 150: 455
bob    03-05 purchase 50, 03-06 check-in 5, lot 40 (expires 04-20), 03-09 check-in 5,
       03-10 purchase 30: 130
carol  03-06 check-in 5, lot 20 (expires 03-25), 03-10 check-in 5: 30
dave   joins 03-10, purchase 100: 100
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import delete, func, select

from app.batches import run_batches
from app.engagement import checkin
from app.extensions import db
from app.mall import coupons, verification
from app.mall.benefit_models import CLAIMABLE, CLAIMED, BenefitGrant
from app.mall.models import FROM_GRANT
from app.numbers import rollup
from app.numbers.models import DailyFact, DailySnapshot, DailyTotal, MonthlyFact, RolledDay
from app.points import service as ledger
from app.points.expiry import expire_overdue
from app.purchases import service as purchases
from app.stores.models import HomeStore, Staff
from app.tasks import jobs
from tests.jobs_helpers import new_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2028, 3, 10)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def on(month: int, day: int, hour: int = 12):
    return time_machine.travel(at(date(2028, month, day), hour), tick=False)


def staff(world, username: str) -> Staff:
    return db.session.get(Staff, world.staff_ids[username])


def join(code: str, store_id: int | None = None) -> int:
    member_id = new_member(code)
    if store_id is not None:
        db.session.add(HomeStore(member_id=member_id, store_id=store_id))
    return member_id


def buy(world, clerk: str, member_id: int, amount_fen: int, order_no: str):
    return purchases.record_purchase(staff(world, clerk), member_id, order_no, amount_fen)[0]


def lot(member_id: int, points: int, expires_on: date, key: str) -> None:
    ledger.credit_points(member_id, points, ledger.Posting(kind="test", key=key), expires_on=expires_on)


def grant(member_id: int, tier_id: int, claimed_on: date | None) -> None:
    db.session.add(BenefitGrant(member_id=member_id, benefit="monthly", period="2028-03", tier_id=tier_id,
                                coupons=[], state=CLAIMED if claimed_on else CLAIMABLE,
                                expires_at=at(date(2028, 4, 1), 0), claimed_at=claimed_on and at(claimed_on)))


def run_rollup_job(month: int, day: int) -> dict:
    with on(month, day, 0):
        with time_machine.travel(at(date(2028, month, day), 0) + timedelta(minutes=40), tick=False):
            return jobs.roll_up_numbers()


def step(work, *args, **kwargs):
    """One request's worth: its own transaction, as the lock order expects."""
    result = work(*args, **kwargs)
    db.session.commit()
    return result


def build_fixture(world) -> dict:
    stores, tiers = world.stores, world.tiers
    with on(2, 28):
        alice = step(join, "alice", stores["A"])
        step(buy, world, "clerk-a", alice, 200_00, "A1")
        step(lot, alice, 100, date(2028, 3, 6), "alice-lot")
    with on(3, 1):
        step(checkin.check_in, alice)
    with on(3, 5):
        bob = step(join, "bob", stores["B"])
        upgrading = step(buy, world, "clerk-a", alice, 1000_00, "A2")  # growth 1201: 银卡
        step(buy, world, "clerk-b", bob, 50_00, "B1")
    with on(3, 6):
        carol = step(join, "carol")
        step(checkin.check_in, bob)
        step(checkin.check_in, carol)
        step(lot, bob, 40, date(2028, 4, 20), "bob-lot")
        step(lot, carol, 20, date(2028, 3, 25), "carol-lot")
    with on(3, 7):
        run_batches(expire_overdue())  # alice's lot of 100, last valid on 03-06
        step(purchases.refund, staff(world, "manager-a"), upgrading.id, "R1", 600_00)  # growth 601: 普通
    first_run = run_rollup_job(3, 8)  # rolls 02-28..03-07; the run of 03-09 is missed
    with on(3, 8):
        step(ledger.debit_points, alice, 150, ledger.Posting(kind="mall_redeem", key="redeem-1", ref="order:1"))
        template = step(coupons.create_template, name="10元券", kind="amount_off", amount_off_fen=10_00,
                        valid_days=30)
        used = step(coupons.issue_coupon, template.id, bob, FROM_GRANT, "admin:1")
        step(coupons.issue_coupon, template.id, carol, FROM_GRANT, "admin:1")
        step(verification.confirm, staff(world, "clerk-b"), used.code, "V1", 80_00)
        step(grant, bob, tiers["普通"], claimed_on=date(2028, 3, 9))
        step(grant, carol, tiers["普通"], claimed_on=None)
    with on(3, 9):
        step(checkin.check_in, bob)
    catch_up = run_rollup_job(3, 10)
    with on(3, 10, 10):  # today: read live
        dave = step(join, "dave", stores["A"])
        step(buy, world, "clerk-a", dave, 100_00, "A3")
        step(buy, world, "clerk-b", bob, 30_00, "B2")
        step(checkin.check_in, carol)
    return {"first_run": first_run, "catch_up": catch_up, "bob": bob}


def count(value, previous, change_pct):
    return {"value": value, "previous": previous, "change": None if previous is None else value - previous,
            "change_pct": change_pct}


def rate(value, previous, change):
    return {"value": value, "previous": previous, "change": change}


EXPECTED_KPIS = {
    "members_total": count(4, 1, 3.0),
    "members_new": count(3, 1, 2.0),
    "members_active_30d": count(4, 0, None),  # alice, bob, carol by 03-09; dave today
    "purchases": count(4, 1, 3.0),
    "spend_fen": count(1180_00, 200_00, 4.9),
    "refunded_fen": count(600_00, 0, None),
    "average_order_fen": count(295_00, 200_00, 0.475),
    # issued: purchases 1180, refund -600, check-ins 20, lots 60; before: 200 + 100 + 5
    "points_issued": count(660, 305, 1.1639),
    "points_spent": count(150, 0, None),
    "points_expired": count(100, 0, None),
    "points_outstanding": count(715, 305, 1.3443),
    "points_outstanding_value_fen": count(715, 305, 1.3443),
    "points_expiring_30d": count(20, None, None),  # carol's lot, 03-25
    "points_expiring_90d": count(60, None, None),  # and bob's, 04-20
    "repeat_purchase_rate": rate(0.3333, 0.0, 0.3333),  # bob of alice, bob, dave; alice once before
    "redemption_rate": rate(0.2273, 0.0, 0.2273),  # 150 / 660
    "breakage_rate": rate(0.1515, 0.0, 0.1515),  # 100 / 660
    # 4 check-ins over 1+2+3+3+3+3+4 member-days; before: 1 over 5 (alice from 02-28)
    "checkin_rate": rate(0.2105, 0.2, 0.0105),
    "benefit_claim_rate": rate(0.5, None, None),
    "coupon_use_rate": rate(0.5, None, None),
}


def dashboard_7d(world):
    with on(3, 10, 15):
        reply = world.admin().get("/api/v1/admin/dashboard?preset=7d")
    assert reply.status_code == 200, reply.json
    return reply.json


def test_every_number_of_the_dashboard(app, world, ctx):
    build_fixture(world)
    numbers = dashboard_7d(world)
    assert {key: numbers[key] for key in ("first", "last", "previous_first", "previous_last", "snapshot_day")} == {
        "first": "2028-03-04", "last": "2028-03-10", "previous_first": "2028-02-26", "previous_last": "2028-03-03",
        "snapshot_day": "2028-03-09"}
    assert numbers["kpis"] == EXPECTED_KPIS
    tiers = {row["name"]: row for row in numbers["by_tier"]}
    # alice's 03-05 purchase counts in 银卡, her tier at the end of that day
    assert tiers["普通"] == {"tier_id": world.tiers["普通"], "level": 0, "name": "普通", "members": 4,
                           "purchases": 3, "spend_fen": 180_00, "average_order_fen": 60_00, "purchasers": 3,
                           "repeat_purchasers": 1, "repeat_purchase_rate": 0.3333}
    assert tiers["银卡"] == {"tier_id": world.tiers["银卡"], "level": 1, "name": "银卡", "members": 0,
                           "purchases": 1, "spend_fen": 1000_00, "average_order_fen": 1000_00, "purchasers": 0,
                           "repeat_purchasers": 0, "repeat_purchase_rate": None}
    assert [(row["code"], row["members"], row["new_members"], row["purchases"], row["spend_fen"],
             row["verifications"]) for row in numbers["by_store"]] == [
        ("A", 2, 1, 2, 1100_00, 0), ("B", 1, 1, 2, 80_00, 1), (None, 1, 1, 0, 0, 0)]
    series = {row.pop("day"): row for row in numbers["series"]}
    assert list(series) == [f"2028-03-{day:02d}" for day in range(4, 11)]
    assert series["2028-03-05"] == {"new_members": 1, "purchases": 2, "spend_fen": 1050_00, "refunded_fen": 0,
                                    "checkins": 0, "coupons_issued": 0, "verifications": 0, "points_issued": 1050,
                                    "points_spent": 0, "points_expired": 0}
    assert series["2028-03-07"] == {"new_members": 0, "purchases": 0, "spend_fen": 0, "refunded_fen": 600_00,
                                    "checkins": 0, "coupons_issued": 0, "verifications": 0, "points_issued": -600,
                                    "points_spent": 0, "points_expired": 100}
    assert series["2028-03-08"] == {"new_members": 0, "purchases": 0, "spend_fen": 0, "refunded_fen": 0,
                                    "checkins": 0, "coupons_issued": 2, "verifications": 1, "points_issued": 0,
                                    "points_spent": 150, "points_expired": 0}
    assert series["2028-03-10"] == {"new_members": 1, "purchases": 2, "spend_fen": 130_00, "refunded_fen": 0,
                                    "checkins": 1, "coupons_issued": 0, "verifications": 0, "points_issued": 135,
                                    "points_spent": 0, "points_expired": 0}


def test_the_tier_pyramid_and_flow(app, world, ctx):
    build_fixture(world)
    with on(3, 10, 15):
        reply = world.admin().get("/api/v1/admin/tiers/numbers?preset=7d")
    assert reply.status_code == 200, reply.json
    numbers = reply.json
    pyramid = {row["name"]: row for row in numbers["pyramid"]}
    assert pyramid["普通"] == {"tier_id": world.tiers["普通"], "level": 0, "name": "普通", "members": 4,
                             "member_share": 1.0, "spend_fen": 180_00, "spend_share": 0.1525, "upgraded_in": 0,
                             "downgraded_in": 1, "upgraded_out": 1, "downgraded_out": 0}
    assert pyramid["银卡"] == {"tier_id": world.tiers["银卡"], "level": 1, "name": "银卡", "members": 0,
                             "member_share": 0.0, "spend_fen": 1000_00, "spend_share": 0.8475, "upgraded_in": 1,
                             "downgraded_in": 0, "upgraded_out": 0, "downgraded_out": 1}
    assert [(row["from_name"], row["to_name"], row["direction"], row["members"]) for row in numbers["flow"]] == [
        ("普通", "银卡", "up", 1), ("银卡", "普通", "down", 1)]
    moves = {row["day"]: (row["upgrades"], row["downgrades"]) for row in numbers["series"]}
    assert moves == {"2028-03-04": (0, 0), "2028-03-05": (1, 0), "2028-03-06": (0, 0), "2028-03-07": (0, 1),
                     "2028-03-08": (0, 0), "2028-03-09": (0, 0), "2028-03-10": (0, 0)}


def rollups() -> tuple[list, list, list]:
    return tuple(sorted(tuple(getattr(row, column) for column in ("day", *rollup.COLUMNS))
                        for row in db.session.execute(select(model)).scalars())
                 for model in (DailyFact, DailySnapshot)) + (
        sorted(db.session.execute(select(RolledDay.day)).scalars()),)


def sums() -> list[list]:
    """The facts summed per month and per day over the stores."""
    return [sorted(tuple(getattr(row, column.name) for column in model.__table__.c)
                   for row in db.session.execute(select(model)).scalars()) for model in (MonthlyFact, DailyTotal)]


def test_the_job_catches_up_missed_days_and_a_run_again_replaces(app, world, ctx):
    runs = build_fixture(world)
    # the first run starts on the day the first member joined; 03-09's run was missed
    assert (runs["first_run"]["days"], runs["catch_up"]["days"]) == (9, 2)
    caught_up, summed = rollups(), sums()
    assert caught_up[2] == [date(2028, 2, 28) + timedelta(days=n) for n in range(11)]
    assert run_rollup_job(3, 10)["days"] == 1  # a second run the same night rolls yesterday again
    assert (rollups(), sums()) == (caught_up, summed)
    for model in (DailyFact, DailySnapshot, RolledDay, MonthlyFact, DailyTotal):  # every day at once, from scratch
        db.session.execute(delete(model))
    db.session.commit()
    assert run_rollup_job(3, 10)["days"] == 11
    facts, snapshots, days = rollups()
    assert (facts, days, sums()) == (caught_up[0], caught_up[2], summed)
    # a snapshot is taken of the day just ended only: the run of 03-08 took one of 03-07
    assert snapshots == [row for row in caught_up[1] if row[0] == date(2028, 3, 9)]
    assert dashboard_7d(world)["kpis"] == EXPECTED_KPIS


def test_the_year_so_far_reads_its_whole_months_from_their_sums(app, world, ctx):
    build_fixture(world)
    with on(3, 10, 15):
        numbers = world.admin().get("/api/v1/admin/dashboard?preset=ytd").json
    assert (numbers["first"], numbers["previous_first"], numbers["previous_last"]) == (
        "2028-01-01", "2027-10-23", "2027-12-31")  # 70 days (2028 is a leap year)
    expected = {  # everything since 02-28: January and February whole, 03-01..03-09 by day, today live
        "members_new": 4, "purchases": 5, "spend_fen": 1380_00, "refunded_fen": 600_00,
        "points_issued": 965, "points_spent": 150, "points_expired": 100}
    assert {key: numbers["kpis"][key]["value"] for key in expected} == expected
    assert [(row["code"], row["purchases"], row["spend_fen"]) for row in numbers["by_store"]] == [
        ("A", 3, 1300_00), ("B", 2, 80_00), (None, 0, 0)]
    [february_28] = [row for row in numbers["series"] if row["day"] == "2028-02-28"]
    assert {key: february_28[key] for key in ("new_members", "purchases", "spend_fen", "points_issued")} == {
        "new_members": 1, "purchases": 1, "spend_fen": 200_00, "points_issued": 300}
    # February is read from its month's sums: without its days' facts, the year still counts them
    db.session.execute(delete(DailyFact).where(DailyFact.day < date(2028, 3, 1)))
    db.session.commit()
    with on(3, 10, 15):
        again = world.admin().get("/api/v1/admin/dashboard?preset=ytd").json
    assert {key: again["kpis"][key]["value"] for key in expected} == expected


def test_csv_tables(app, world, ctx):
    build_fixture(world)
    with on(3, 10, 15):
        admin = world.admin()
        kpis = admin.get("/api/v1/admin/dashboard.csv?preset=7d")
        flow = admin.get("/api/v1/admin/tiers/numbers.csv?preset=7d&table=flow")
    assert (kpis.status_code, kpis.mimetype) == (200, "text/csv")
    lines = kpis.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "kpi,value,previous,change,change_pct"
    assert "points_outstanding,715,305,410,1.3443" in lines
    assert "points_expiring_30d,20,,," in lines
    assert flow.get_data(as_text=True).lstrip("\ufeff").splitlines() == [
        "from_tier_id,from_name,to_tier_id,to_name,direction,members",
        f"{world.tiers['普通']},普通,{world.tiers['银卡']},银卡,up,1",
        f"{world.tiers['银卡']},银卡,{world.tiers['普通']},普通,down,1"]


@pytest.mark.parametrize("query", ["preset=14d", "table=nope", "preset="])
def test_an_unknown_preset_or_table_is_refused(app, world, query):
    reply = world.admin().get(f"/api/v1/admin/dashboard.csv?{query}")
    assert reply.status_code == 422, reply.json


def test_before_the_first_run_today_is_read_live(app, world, ctx):
    with on(3, 10, 10):
        alice = step(join, "alice", world.stores["A"])
        step(buy, world, "clerk-a", alice, 120_00, "A1")
    with on(3, 10, 15):
        numbers = world.admin().get("/api/v1/admin/dashboard?preset=7d").json
    assert numbers["snapshot_day"] is None
    assert {key: numbers["kpis"][key]["value"] for key in ("members_total", "members_new", "purchases", "spend_fen",
                                                           "points_issued", "points_outstanding",
                                                           "members_active_30d", "repeat_purchase_rate")} == {
        "members_total": 1, "members_new": 1, "purchases": 1, "spend_fen": 120_00, "points_issued": 120,
        "points_outstanding": 120, "members_active_30d": 1, "repeat_purchase_rate": 0.0}


def run_today_job(hour: int, minute: int = 0) -> dict:
    with time_machine.travel(at(TODAY, hour) + timedelta(minutes=minute), tick=False):
        return jobs.roll_up_today()


def todays_rollup() -> dict:
    """Today's facts written so far, per metric and detail (summed over tiers and stores)."""
    return dict(db.session.execute(select(DailyFact.metric, func.sum(DailyFact.value)).where(
        DailyFact.day == TODAY, DailyFact.detail == "").group_by(DailyFact.metric)).all())


def test_today_rolled_up_so_far_and_the_rows_since_read_live_give_the_same_numbers(app, world, ctx):
    bob = build_fixture(world)["bob"]  # today's activity at 10:00
    assert run_today_job(10, 5)["facts"] > 0  # up to 10:04
    assert rollup.last_rolled_day() == date(2028, 3, 9) and rollup.rolled_in_part() == {
        TODAY: at(TODAY, 10) + timedelta(minutes=4)}
    # written, not read live any more: dave's and bob's purchases, and their points
    assert todays_rollup()["purchases"] == 2 and todays_rollup()["spend_fen"] == 130_00
    assert dashboard_7d(world)["kpis"] == EXPECTED_KPIS
    with on(3, 10, 12):  # after the cut: read live, added to the part rolled up
        step(buy, world, "clerk-b", bob, 20_00, "B3")
    kpis = dashboard_7d(world)["kpis"]
    assert {key: kpis[key]["value"] for key in ("purchases", "spend_fen", "points_issued", "points_outstanding")} == {
        "purchases": 5, "spend_fen": 1200_00, "points_issued": 680, "points_outstanding": 735}
    # bob, counted before the cut (active, a repeat purchaser), is not counted again after it
    assert {key: kpis[key] for key in ("members_active_30d", "repeat_purchase_rate")} == {
        key: EXPECTED_KPIS[key] for key in ("members_active_30d", "repeat_purchase_rate")}
    rolled_in_part = todays_rollup()
    run_rollup_job(3, 11)  # the night's run replaces today's part with the whole day
    assert rollup.rolled_in_part() == {} and rollup.last_rolled_day() == TODAY
    assert todays_rollup()["purchases"] == 3 and rolled_in_part["purchases"] == 2


def test_today_is_left_alone_once_the_night_has_rolled_it_up_in_full(app, world, ctx):
    build_fixture(world)
    with time_machine.travel(at(date(2028, 3, 11), 0) + timedelta(seconds=20), tick=False):
        jobs.roll_up_numbers()
    with time_machine.travel(at(date(2028, 3, 11), 0) + timedelta(seconds=30), tick=False):
        assert jobs.roll_up_today() == {"facts": 0, "distinct": 0}  # its cut, a minute back, is still on 03-10
    assert rollup.last_rolled_day() == TODAY and todays_rollup()["purchases"] == 2


def test_a_member_active_earlier_by_a_purchase_is_counted_once_when_active_again_today(app, world, ctx):
    with on(3, 9):
        erin = step(join, "erin", world.stores["A"])
        step(buy, world, "clerk-a", erin, 20_00, "E1")
    run_rollup_job(3, 10)
    with on(3, 10, 10):  # today, read live: erin buys and checks in again
        step(buy, world, "clerk-a", erin, 30_00, "E2")
        step(checkin.check_in, erin)
        kpis = world.admin().get("/api/v1/admin/dashboard?preset=7d").json["kpis"]
    assert kpis["members_active_30d"]["value"] == 1
    assert kpis["repeat_purchase_rate"]["value"] == 1.0


def test_members_counted_before_todays_cut_and_after_it_are_counted_once(app, world, ctx):
    with on(3, 9):
        erin = step(join, "erin", world.stores["A"])
        step(buy, world, "clerk-a", erin, 20_00, "E1")
    run_rollup_job(3, 10)
    with on(3, 10, 10):  # before the cut: erin's second purchase in the window, frank's first
        frank = step(join, "frank", world.stores["A"])
        step(buy, world, "clerk-a", erin, 30_00, "E2")
        step(buy, world, "clerk-a", frank, 30_00, "F1")
    assert run_today_job(10, 5)["distinct"] > 0  # written up to 10:04
    with on(3, 10, 12):  # after it, read live: each buys once more, and frank checks in
        step(buy, world, "clerk-a", erin, 30_00, "E3")
        step(buy, world, "clerk-a", frank, 30_00, "F2")
        step(checkin.check_in, frank)
    with on(3, 10, 15):
        numbers = world.admin().get("/api/v1/admin/dashboard?preset=7d").json
    assert numbers["kpis"]["members_active_30d"]["value"] == 2
    [regular] = [row for row in numbers["by_tier"] if row["name"] == "普通"]
    assert (regular["purchasers"], regular["repeat_purchasers"]) == (2, 2)  # erin before the cut, frank after
