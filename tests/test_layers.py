"""RFM scores and layers, the daily counts and segments, against a hand-computed member set."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, update

from app.extensions import db
from app.layers import rfm
from app.layers.models import LayerCount, MemberLayer, RfmState
from app.layers.rfm import entered_at_risk_today
from app.points.service import Posting, credit_points
from app.purchases import service as purchases
from app.purchases.models import Purchase
from app.stores.models import Staff
from app.tasks import jobs
from app.tasks.models import JobRun
from tests.helpers import run_in_threads
from tests.jobs_helpers import new_member
from tests.layers_steps import EXPECTED, RUN, add_checkins, add_purchase, build_fixture


@pytest.fixture
def members(app, world):
    with app.app_context():
        return build_fixture(world)


def layers_by_name(members) -> dict:
    rows = {row.member_id: row for row in db.session.execute(select(MemberLayer)).scalars()}
    return {name: rows[member_id] for name, member_id in members.items()}


def test_the_job_scores_and_layers_every_member_as_worked_out_by_hand(app, world, members):
    with time_machine.travel(RUN, tick=False), app.app_context():
        counts = jobs.compute_layers()
        rows = layers_by_name(members)
        assert {name: (row.layer, row.r_score, row.f_score, row.m_score, row.frequency, row.monetary_fen)
                for name, row in rows.items()} == EXPECTED
        assert {row.since.isoformat() for row in rows.values()} == {"2026-06-15"}
        assert counts == {"high_value": 1, "potential": 3, "new": 2, "at_risk": 1, "dormant": 3,
                          "recalled": 0, "assigned": 0, "reached": 0}
        [run] = db.session.execute(select(JobRun).where(JobRun.job == "compute_layers")).scalars()
        assert run.counts == counts
        by_tier = {(row.layer, row.tier_id): row.members for row in db.session.execute(select(LayerCount)).scalars()}
        silver, regular = world.tiers["银卡"], world.tiers["普通"]
        assert by_tier == {("high_value", silver): 1, ("potential", silver): 1, ("potential", regular): 2,
                           ("new", regular): 2, ("at_risk", regular): 1, ("dormant", regular): 3}


def test_a_later_run_replaces_the_rows_and_keeps_who_moved_where(app, world, members):
    with time_machine.travel(RUN, tick=False) as clock:
        with app.app_context():
            jobs.compute_layers()
            jobs.compute_layers()  # the same day again: nothing moves, the day's counts are not doubled
            assert db.session.execute(select(LayerCount.members).where(LayerCount.layer == "dormant")).scalar() == 3
        clock.shift(timedelta(days=120))
        with app.app_context():
            jobs.compute_layers()
            rows = layers_by_name(members)
            # whale: 121 days since, against 2 × 30; steady: 130 against 2 × 30; twice: 122 against 2 × 58;
            # lapsing: 220 > 180
            assert (rows["whale"].layer, rows["whale"].previous_layer) == ("at_risk", "high_value")
            assert (rows["twice"].layer, rows["twice"].previous_layer) == ("at_risk", "potential")
            assert (rows["lapsing"].layer, rows["lapsing"].previous_layer) == ("dormant", "at_risk")
            assert rows["ghost"].since.isoformat() == "2026-06-15"  # still dormant: since the first run
            assert rows["whale"].since.isoformat() == "2026-10-13"
            assert set(db.session.execute(entered_at_risk_today()).scalars()) == {
                members["whale"], members["steady"], members["twice"]}
            days = sorted({day.isoformat() for day in db.session.execute(select(LayerCount.day)).scalars()})
            assert days == ["2026-06-15", "2026-10-13"]


def rows_and_counts() -> tuple[dict, dict]:
    """Every member's figures, scores and layer, and the day's counts per layer and tier."""
    rows = {row.member_id: (row.joined_at, row.frequency, row.monetary_fen, row.first_purchase_at,
                            row.last_purchase_at, row.r_score, row.f_score, row.m_score, row.layer)
            for row in db.session.execute(select(MemberLayer)).scalars()}
    counts = {(row.day, row.layer, row.tier_id): row.members
              for row in db.session.execute(select(LayerCount)).scalars()}
    return rows, counts


def run() -> dict:
    counts = rfm.compute_layers()
    db.session.commit()
    return counts


def full_run() -> dict:
    """A run that recomputes every member's figures (no state: as the first run does)."""
    db.session.execute(delete(RfmState))
    return run()


def test_a_daily_run_refreshes_the_figures_that_changed_and_agrees_with_a_full_run(app, world, members):
    def staff(username="clerk-a"):
        return db.session.get(Staff, world.staff_ids[username])

    with time_machine.travel(RUN, tick=False) as clock:
        with app.app_context():
            run()
        clock.shift(timedelta(days=150))
        with app.app_context():
            purchases.record_purchase(staff(), members["steady"], "LATER-1", 700_00)
            db.session.commit()  # one member's purchase per transaction, as at the counter
            bought = purchases.record_purchase(staff(), members["ghost"], "LATER-2", 300_00)[0].id
            db.session.commit()
        clock.shift(timedelta(days=5))
        with app.app_context():
            run()
        clock.shift(timedelta(days=35))
        with app.app_context():
            purchases.refund(staff("manager-a"), bought, "REFUND-1", 300_00)  # in full: no purchase left
            db.session.commit()
            late = new_member("late")
            db.session.commit()
        clock.shift(timedelta(days=10))  # 200 days on: sleeper's only purchase has left the window
        with app.app_context():
            daily = run()
            rows, counts = rows_and_counts()
            assert rows[members["steady"]][1:3] == (4, 220_000)
            assert rows[members["ghost"]][1:3] == (0, 0)  # bought before the last run, refunded since
            assert rows[late][1:3] == (0, 0) and rows[late][-1] == "new"
            assert rows[members["sleeper"]][1:3] == (0, 0) and rows[members["sleeper"]][-1] == "dormant"
            assert full_run() == daily
            assert rows_and_counts() == (rows, counts)


def test_a_daily_run_reads_only_what_can_have_changed_and_a_full_run_the_rest(app, world, members):
    with time_machine.travel(RUN, tick=False) as clock:
        with app.app_context():
            run()
            # Written around the services, as an import would: a purchase 40 days old made larger, and one
            # an hour before the last run, as a transaction that committed after that run had read.
            db.session.execute(update(Purchase).where(Purchase.member_id == members["steady"],
                                                      Purchase.created_at == RUN - timedelta(days=40))
                               .values(amount_fen=900_00))
            add_purchase(members["ghost"], world, RUN - timedelta(hours=1), 100)
            db.session.commit()
        clock.shift(timedelta(days=1))
        with app.app_context():
            run()
            rows, _ = rows_and_counts()
            assert rows[members["ghost"]][1:3] == (1, 10_000)  # within rfm.LATE_COMMIT of the last run
            assert rows[members["steady"]][1:3] == (3, 150_000)  # not read again
            full_run()
            rows, _ = rows_and_counts()
            assert rows[members["steady"]][1:3] == (3, 190_000)


def test_a_run_over_another_window_recomputes_every_members_figures(app, world, members, monkeypatch):
    with time_machine.travel(RUN, tick=False), app.app_context():
        run()
        monkeypatch.setitem(app.config, "RFM_WINDOW_DAYS", 150)
        run()
        rows, _ = rows_and_counts()
        assert rows[members["sleeper"]][1:3] == (0, 0)  # 200 days ago: out of a 150-day window
        assert rows[members["lapsing"]][1:3] == (3, 90_000)


def test_two_runs_at_once_take_turns_and_count_the_day_once(app, world, members):
    def work(_):
        with app.app_context():
            return run()

    with time_machine.travel(RUN, tick=False) as clock:
        with app.app_context():
            run()
        clock.shift(timedelta(days=1))
        first, second = run_in_threads(2, work)
        assert first == second == {"high_value": 1, "potential": 3, "new": 2, "at_risk": 1, "dormant": 3}
        with app.app_context():
            assert sum(rows_and_counts()[1].values()) == 2 * len(members)  # the two days


def test_the_admin_api_shows_the_counts_the_trend_and_a_members_layer(app, world, members):
    with time_machine.travel(RUN, tick=False):
        admin = world.admin()
        assert admin.get("/api/v1/admin/layers").json == {"day": None, "layers": [
            {"layer": layer, "name": name, "members": 0}
            for layer, name in (("high_value", "高价值"), ("potential", "潜力"), ("new", "新客"),
                                ("at_risk", "流失预警"), ("dormant", "沉睡"))]}
        assert admin.get(f"/api/v1/admin/members/{members['whale']}").json["layer"] is None
        with app.app_context():
            jobs.compute_layers()
        now = admin.get("/api/v1/admin/layers").json
        assert now["day"] == "2026-06-15"
        assert [row["members"] for row in now["layers"]] == [1, 3, 2, 1, 3]
        trend = admin.get(f"/api/v1/admin/layers/trend?days=7&tier_id={world.tiers['银卡']}").json
        assert trend == {"points": [
            {"day": "2026-06-15", "layer": "high_value", "tier_id": world.tiers["银卡"], "members": 1},
            {"day": "2026-06-15", "layer": "potential", "tier_id": world.tiers["银卡"], "members": 1}]}
        layer = admin.get(f"/api/v1/admin/members/{members['lapsing']}").json["layer"]
        assert layer == {
            "layer": "at_risk", "name": "流失预警", "since": "2026-06-15", "previous_layer": None,
            "r_score": 1, "f_score": 3, "m_score": 3, "frequency": 3,
            "monetary_fen": 90_000, "last_purchase_at": "2026-03-07T20:00:00+08:00"}  # 12:00 UTC


@pytest.fixture
def segment_world(app, world, members):
    """The fixture after a run, with points (lots expiring on set days) and check-ins."""
    with time_machine.travel(RUN, tick=False), app.app_context():
        jobs.compute_layers()
        for name, points, expires in (("whale", 1000, 10), ("steady", 300, 60), ("lapsing", 100, 10)):
            credit_points(members[name], points, Posting(kind="adjustment", key=f"seed-{name}"),
                          expires_on=(RUN + timedelta(days=expires)).date())
        add_checkins(members["occasional"], [0, 1, 2])  # a run of 3 up to today
        add_checkins(members["twice"], [1, 2, 3])  # up to yesterday, today not yet checked: still 3
        add_checkins(members["steady"], [0, 1, 3])  # 2
        add_checkins(members["newbuyer"], [2, 3, 4])  # broken yesterday: 0
        db.session.commit()
    return members


@pytest.mark.parametrize("conditions, expected", [
    ({}, ["whale", "steady", "lapsing", "sleeper", "ghost", "fresh", "newbuyer", "refunded", "occasional", "twice"]),
    ({"layers": ["at_risk", "dormant"]}, ["lapsing", "sleeper", "ghost", "refunded"]),
    ({"tier_ids": ["银卡"]}, ["whale", "twice"]),
    ({"store_ids": ["A"]}, ["whale", "steady"]),
    # bought, but not since 2026-05-31 00:00 Shanghai: refunded's only net purchase is 400 days old
    ({"last_purchase_before_days": 15}, ["lapsing", "sleeper", "refunded", "occasional"]),
    ({"points_min": 100, "points_max": 500}, ["steady", "lapsing"]),
    ({"points_min": 1000}, ["whale"]),
    ({"points_expiring_before": "2026-07-15"}, ["whale", "lapsing"]),
    ({"checkin_streak_min": 3}, ["occasional", "twice"]),
    ({"checkin_streak_min": 2}, ["steady", "occasional", "twice"]),
    ({"layers": ["potential"], "checkin_streak_min": 3, "tier_ids": ["银卡"]}, ["twice"]),
])
def test_a_segment_counts_the_members_each_condition_names(app, world, segment_world, conditions, expected):
    conditions = {key: [world.tiers[name] if key == "tier_ids" else world.stores[name] for name in value]
                  if key in ("tier_ids", "store_ids") else value for key, value in conditions.items()}
    with time_machine.travel(RUN, tick=False):
        admin = world.admin()
        reply = admin.post("/api/v1/admin/segments/preview", json={"conditions": conditions})
        assert reply.status_code == 200, reply.json
        assert reply.json == {"members": len(expected)}
        saved = admin.post("/api/v1/admin/segments", json={"name": "测试人群", "conditions": conditions})
        assert saved.status_code == 201, saved.json
        assert admin.get(f"/api/v1/admin/segments/{saved.json['id']}/count").json == {"members": len(expected)}
        with app.app_context():
            from app.layers.segments import members_matching
            ids = set(db.session.execute(members_matching(conditions)).scalars())
        assert ids == {segment_world[name] for name in expected}


@pytest.mark.parametrize("conditions, field", [
    ({"layers": ["vip"]}, "conditions"),
    ({"points_min": 10, "points_max": 5}, "points_max"),
    ({"points_expiring_before": "2026-06-15"}, "points_expiring_before"),
    ({"checkin_streak_min": 0}, "conditions"),
    ({"paid": True}, "conditions"),
])
def test_bad_conditions_are_a_422_naming_the_field(app, world, conditions, field):
    with time_machine.travel(RUN, tick=False):
        reply = world.admin().post("/api/v1/admin/segments", json={"name": "x", "conditions": conditions})
    assert reply.status_code == 422
    assert field in reply.json["error"]["details"]["fields"]
