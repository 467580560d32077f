"""The business day: one helper for where a day starts, and one `today()` per request or job,
so work that crosses local midnight agrees with itself."""
import re
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from app.clock import one_business_day, start_of_day, today
from app.engagement import checkin
from app.extensions import db
from app.member_row import Member
from app.tasks.models import JobRun
from app.tasks.runs import recorded
from tests.engagement_steps import checkin_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE_MIDNIGHT = datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
AFTER_MIDNIGHT = datetime(2026, 3, 10, 0, 0, 1, tzinfo=SHANGHAI)
APP = Path(__file__).resolve().parent.parent / "app"


def test_a_business_day_starts_at_its_local_midnight_in_utc(ctx):
    assert start_of_day(date(2026, 3, 10)) == datetime(2026, 3, 9, 16, tzinfo=timezone.utc)
    assert start_of_day(date(2026, 3, 10)).tzinfo == timezone.utc


def test_a_request_that_crosses_local_midnight_keeps_the_day_it_began_on(app, world):
    checkin_rules(app)
    with time_machine.travel(BEFORE_MIDNIGHT, tick=False) as clock:
        member_id = world.member("alice").member_id
        with app.test_request_context("/", method="POST"):
            app.preprocess_request()  # the request starts: its before_request hooks run
            checked = checkin.check_in(member_id)
            clock.move_to(AFTER_MIDNIGHT)  # the request's work goes on past midnight
            month = checkin.calendar(db.session.get(Member, member_id), date(2026, 3, 1))
            assert (checked.checkin.day, today()) == (date(2026, 3, 9), date(2026, 3, 9))
            assert month["today"] == {"day": date(2026, 3, 9), "checked": True}
            db.session.rollback()
        with app.app_context():
            assert today() == date(2026, 3, 10)  # the next request (or job) reads the clock again


def test_a_job_run_keeps_the_day_it_began_on(app, world):
    @recorded("crossing_midnight")
    def crossing_midnight() -> dict:
        clock.move_to(AFTER_MIDNIGHT)
        return {"day": today().day}

    with time_machine.travel(BEFORE_MIDNIGHT, tick=False) as clock, app.app_context():
        assert crossing_midnight() == {"day": 9}
        run = db.session.execute(select(JobRun).where(JobRun.job == "crossing_midnight")).scalar_one()
        assert run.business_date == date(2026, 3, 9)
        assert today() == date(2026, 3, 10)


def test_a_nested_business_day_keeps_the_outer_one(ctx):
    with time_machine.travel(BEFORE_MIDNIGHT, tick=False) as clock:
        with one_business_day():
            clock.move_to(AFTER_MIDNIGHT)
            with one_business_day():
                assert today() == date(2026, 3, 9)
            assert today() == date(2026, 3, 9)
        assert today() == date(2026, 3, 10)


def test_only_the_clock_turns_dates_into_instants_and_back():
    """Where a business day starts, and which day an instant falls on, are app/clock.py's alone."""
    copies = re.compile(r"datetime\.combine\(|\.astimezone\(business_tz\(\)\)\.date\(\)")
    found = [f"{path.relative_to(APP)}:{number}" for path in sorted(APP.rglob("*.py")) if path.name != "clock.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if copies.search(line)]
    assert found == []
