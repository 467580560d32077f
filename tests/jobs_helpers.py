"""Helpers for job tests: real RQ workers (in-process or as processes), members with quota."""
import os
import subprocess
import sys
import tempfile

import redis as redis_lib
from rq import Queue
from sqlalchemy import func, select

from app.extensions import db
from app.members import service as members
from app.messaging import rules, subscriptions
from app.messaging.models import Message, OutboxEvent
from app.messaging.service import record_event
from app.tasks.worker import AppWorker
from tests.helpers import REDIS_URL

SEND_PATH = "/cgi-bin/message/subscribe/send"
TEMPLATE = "tmpl-points-expiring"
POINTS_FIELDS = {"thing1": "{points} 积分将于 {expires_on} 过期，请尽快使用", "date2": "{expires_on}",
                 "number3": "{points}"}


def queue_of(app) -> Queue:
    return Queue(app.config["RQ_QUEUE"], connection=redis_lib.Redis.from_url(REDIS_URL))


def run_worker(app) -> None:
    """A real RQ worker (ours) in burst mode in this process: it runs until the queue is empty."""
    queue = queue_of(app)
    AppWorker([queue], connection=queue.connection, app=app).work(burst=True, logging_level="WARNING")


def worker_process(app, *extra_args, env=None) -> subprocess.Popen:
    """`rq worker` with our worker class, as production runs it, on this test's database and Redis."""
    environment = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": REDIS_URL,
                   "WECHAT_API_BASE": app.config["WECHAT_API_BASE"], "SECRET_KEY": app.config["SECRET_KEY"],
                   "MESSAGE_RETRY_INTERVALS": app.config["MESSAGE_RETRY_INTERVALS"], **(env or {})}
    log = tempfile.TemporaryFile()  # a file, not a pipe: a worker logging many retries would block on a full pipe
    process = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", "-w", "app.tasks.worker.AppWorker", "--url", REDIS_URL,
         "--logging_level", "WARNING", *extra_args, app.config["RQ_QUEUE"]],
        env=environment, cwd=os.path.dirname(os.path.dirname(__file__)), stdout=log, stderr=log)
    process.log = log
    return process


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
