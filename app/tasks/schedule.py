"""The schedule, one definition for both schedulers.

Production runs one `python -m app.tasks.cron` process next to the `rq worker`s;
the embedded default runs the same entries in-process (app/tasks/inprocess.py).
Cron fields are read in the business zone (BUSINESS_TZ). Every job is idempotent and
catches up (it does whatever is due as of the business day when it runs), so a run
missed while nothing was up is made good by the next, and a run twice is harmless.
"""
from collections.abc import Callable
from dataclasses import dataclass

from app.numbers import rollup
from app.tasks import jobs


@dataclass(frozen=True)
class Scheduled:
    job: Callable[[], dict]
    cron: str | None = None  # minute hour day month weekday, business-local time
    interval: int | None = None  # seconds
    wakes_on_commit: bool = False  # run at once when a commit wrote outbox events (in-process)

    @property
    def name(self) -> str:
        return self.job.__name__


def schedule(config: dict) -> tuple[Scheduled, ...]:
    return (
        Scheduled(jobs.dispatch_outbox, interval=config["OUTBOX_DISPATCH_INTERVAL"], wakes_on_commit=True),
        # just after local midnight: yesterday's last day of validity is over
        Scheduled(jobs.expire_points, cron="5 0 * * *"),
        Scheduled(jobs.review_tiers, cron="15 0 * * *"),
        Scheduled(jobs.expire_coupons, cron="20 0 * * *"),
        Scheduled(jobs.expire_benefits, cron="25 0 * * *"),
        # the month's pack on the 1st, birthday packs every day (a birthday set later still counts)
        Scheduled(jobs.grant_monthly_benefits, cron="10 0 1 * *"),
        Scheduled(jobs.grant_birthday_benefits, cron="30 0 * * *"),
        # yesterday's numbers, once the night's expiry, reviews and grants have written theirs
        Scheduled(jobs.roll_up_numbers, cron="40 0 * * *"),
        # and today so far, so that a page reads live only the last minutes
        Scheduled(jobs.roll_up_today, interval=int(rollup.TODAY_EVERY.total_seconds())),
        # reminders in the morning, not at midnight
        Scheduled(jobs.remind_points_expiring, cron="0 10 * * *"),
        Scheduled(jobs.warn_tier_downgrades, cron="5 10 * * *"),
        Scheduled(jobs.remind_coupons_expiring, cron="10 10 * * *"),
        Scheduled(jobs.remind_benefits_expiring, cron="15 10 * * *"),
        # layers after the night's expiry and tier review; launched campaigns every minute
        Scheduled(jobs.compute_layers, cron="45 0 * * *"),
        Scheduled(jobs.run_campaigns, interval=config["CAMPAIGN_INTERVAL"]),
        # housekeeping in the quiet hours: Idempotency-Key records past their retention
        Scheduled(jobs.purge_idempotency_records, cron="0 4 * * *"),
    )
