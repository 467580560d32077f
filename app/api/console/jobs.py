"""任务: each scheduled job's schedule and latest run, and "run now" (operators and admins): the
same idempotent job as the schedule's, recorded as started by the operator (app/tasks/run_now.py)."""
from flask import render_template

from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.db_helpers import end_transaction
from app.tasks import run_now

blp = page_blueprint("console_jobs", __name__)


@blp.get("/jobs")
def index():
    return render_template("console/jobs.html", jobs=run_now.last_runs())


@blp.post("/jobs/<name>/runs")
def run(name):
    queued = run_now.request_run(name, started_by=actor())
    end_transaction()  # committed first: a worker must find the run it is given
    run_now.start(queued.id)  # Redis down: the run reads failed, and the 503 page
    return flash_and_redirect(f"已开始运行 {name}（第 {queued.id} 次运行）", ".index")
