"""Operators: the scheduled jobs, their latest runs, and "run now" (the runs' log: /admin/job-runs)."""
import functools

from flask import after_this_request, g, jsonify
from marshmallow import Schema, fields

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.messaging_schemas import JobRunSchema
from app.api.principals import require
from app.errors import AppError, JobError, envelope
from app.security import ADMIN
from app.tasks import run_now

blp = Blueprint("admin_jobs", __name__, url_prefix="/api/v1/admin",
                description="Scheduled jobs: latest runs and run now (admin token)")
blp.before_request(require(ADMIN))


class JobSchema(Schema):
    name = fields.String()
    cron = fields.String(allow_none=True, metadata={"description": "minute hour day month weekday, in BUSINESS_TZ"})
    interval = fields.Integer(allow_none=True, metadata={"description": "seconds between runs"})
    last_run = fields.Nested(JobRunSchema, allow_none=True)


class JobPageSchema(Schema):
    items = fields.List(fields.Nested(JobSchema))
    next_cursor = fields.Integer(allow_none=True, metadata={"description": "always null: one page holds every job"})


@blp.route("/jobs")
@blp.response(200, JobPageSchema)
def list_jobs():
    """Every scheduled job with its schedule and its latest run (counts, outcome, who started it)."""
    return {"items": run_now.last_runs(), "next_cursor": None}


@blp.route("/jobs/<name>/runs", methods=["POST"])
@blp.errors(JobError.JOB_NOT_FOUND)
@mutation
@blp.response(202, JobRunSchema)
def run_job(name):
    """Run the job now, as the schedule would (it does only what is due: harmless twice). The
    reply is the run, queued; once it is committed the run goes to the RQ workers (or, without
    Redis, runs before this reply is sent). Follow it in /admin/jobs or /admin/job-runs. With
    Redis down the run reads failed and the reply is 503: ask again (with a new Idempotency-Key)."""
    run = run_now.request_run(name, started_by=g.scope)
    after_this_request(functools.partial(_start_once_committed, run.id))
    return run


def _start_once_committed(run_id: int, response):
    """After @mutation's commit (an error reply committed nothing: no run to start)."""
    if response.status_code != 202:
        return response
    try:
        run_now.start(run_id)
    except AppError as error:  # the queue is down: the run reads failed
        unavailable = jsonify(envelope(error.code, error.message, error.details))
        unavailable.status_code = error.status
        unavailable.headers["Retry-After"] = str(error.details["retry_after"])
        return unavailable
    return response
