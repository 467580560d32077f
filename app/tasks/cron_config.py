"""The schedule as rq's cron scheduler reads it; `python -m app.tasks.cron` runs it. Run exactly one.

It only enqueues; `rq worker -w app.tasks.worker.AppWorker` processes run the jobs.
rq's cron reads cron fields in its process's local time: app/tasks/cron.py sets that
process's zone to BUSINESS_TZ before it loads this file, so "5 0 * * *" is 00:05 in
Shanghai whatever the host's zone. Importing this module changes nothing else.
"""
from rq import cron

from app.config import load_config
from app.tasks.schedule import schedule

_config = load_config()

for _entry in schedule(_config):
    cron.register(_entry.job, queue_name=_config["RQ_QUEUE"], cron=_entry.cron, interval=_entry.interval,
                  job_timeout=_config["SCHEDULED_JOB_TIMEOUT"], result_ttl=0, name=_entry.name)
