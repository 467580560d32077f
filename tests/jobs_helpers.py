"""Helpers for job tests: real RQ workers (in-process or as processes), members with quota."""
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import redis as redis_lib
from rq import Queue
from sqlalchemy import func, select

from app.extensions import db
from app.members import service as members
from app.messaging import rules, subscriptions
from app.messaging.models import Message, OutboxEvent
from app.messaging.service import record_event
from app.numbers.models import RolledDay
from app.tasks.worker import AppWorker
from tests.helpers import REDIS_URL

SEND_PATH = "/cgi-bin/message/subscribe/send"
TEMPLATE = "tmpl-points-expiring"
POINTS_FIELDS = {"thing1": "{points} 积分将于 {expires_on} 过期，请尽快使用", "date2": "{expires_on}",
                 "number3": "{points}"}


def rolled_up_until(day: date) -> None:
    """The numbers job last rolled up `day`. A test that travels years past the members' join
    day would otherwise have the job catch up every day between, ~20 queries a day."""
    db.session.add(RolledDay(day=day))
    db.session.commit()


def queue_of(app) -> Queue:
    return Queue(app.config["RQ_QUEUE"], connection=redis_lib.Redis.from_url(REDIS_URL))


def run_worker(app) -> None:
    """A real RQ worker (ours) in burst mode in this process: it runs until the queue is empty."""
    queue = queue_of(app)
    AppWorker([queue], connection=queue.connection, app=app).work(burst=True, logging_level="WARNING")


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_command(program: str, redis_url: str) -> list[str]:
    """The README's command line that starts with `program` (e.g. "rq worker"), as argv:
    $REDIS_URL filled in, the program taken from this virtualenv."""
    (line,) = [line for line in README.read_text().splitlines() if line.startswith(program + " ")]
    argv = [redis_url if arg == "$REDIS_URL" else arg for arg in shlex.split(line, comments=True)]
    executable = sys.executable if argv[0] == "python" else str(Path(sys.executable).parent / argv[0])
    return [executable, *argv[1:]]


@contextmanager
def process_of(argv: list[str], env: dict) -> Iterator[subprocess.Popen]:
    """A process started for the test, killed with every child it forked when the test ends
    (passed or failed); its output in `.log` (a file, not a pipe, which a chatty process would fill)."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=README.parent, stdout=log, stderr=log,
                               start_new_session=True)
    process.log = log
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def worker_process(app, *extra_args, redis_url: str = REDIS_URL, env=None):
    """`rq worker` started as the README says, on this test's database and Redis (a context manager)."""
    environment = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
                   "WECHAT_API_BASE": app.config["WECHAT_API_BASE"], "SECRET_KEY": app.config["SECRET_KEY"],
                   "MESSAGE_RETRY_INTERVALS": app.config["MESSAGE_RETRY_INTERVALS"], **(env or {})}
    return process_of([*readme_command("rq worker", redis_url), "--logging_level", "WARNING", *extra_args],
                      environment)


def wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def log_of(worker: subprocess.Popen) -> str:
    worker.log.seek(0)
    return worker.log.read().decode()[-3000:]


def points_rule(template_id: str = TEMPLATE, kind: str = "points_expiring", **overrides):
    values = {"fields": POINTS_FIELDS, "page": "pages/points/index", **overrides}
    return rules.save_rule(kind, template_id, **values)


def new_member(code: str, accepted: int = 0, template_id: str = TEMPLATE) -> int:
    """A member (openid "fake-openid-<code>") who accepted the template `accepted` times."""
    member, _ = members.get_or_create(f"fake-openid-{code}", None)
    for _ in range(accepted):
        subscriptions.report(member.id, {template_id: "accept"})
    return member.id


def expiring_event(member_id: int, points: int = 120, expires_on: str = "2026-12-31") -> int:
    return record_event("points_expiring", member_id, {"points": points, "expires_on": expires_on})


def messages() -> list:
    """The message log as plain rows; ends the read (SQLite: an open transaction holds the
    database's write lock, which would stall the workers)."""
    rows = db.session.execute(select(Message.__table__).order_by(Message.id)).all()
    db.session.commit()
    return rows


def remaining(member_id: int, template_id: str = TEMPLATE) -> int:
    return next((s["remaining"] for s in subscriptions.templates_for(member_id) if s["template_id"] == template_id), 0)


def pending_events() -> int:
    return db.session.execute(select(func.count()).where(OutboxEvent.dispatched_at.is_(None))).scalar_one()


def delivered(fake) -> list[dict]:
    """Subscribe messages the fake WeChat accepted (answered errcode 0)."""
    return [call["json"] for call in fake.calls(SEND_PATH) if call["errcode"] == 0]
