"""Job functions: thin, each calls a service. RQ runs them by import path (app.tasks.jobs.*)
inside AppWorker's app context; the embedded default calls them in-process.

The scheduled jobs own the commit (app/batches.py): a sweep runs through `run_batches`,
which commits each of its batches; a one-transaction service's work is committed by
`recorded`. Their services never commit. A send is the one exception: delivery commits
its claim before it calls WeChat, and the outcome after (app/messaging/delivery.py).

Sends are one job per message, enqueued with rq's Retry (MESSAGE_RETRY_INTERVALS: one
retry per interval, e.g. 10 s, 60 s, 300 s; a worker runs them only with --with-scheduler)
for the failures worth another try, and retried alike in-process (app/tasks/queue.py); see
app/messaging/delivery.py for which those are and for the at-most-once guarantee.
"""
from flask import current_app
from rq import Queue, Retry

from app.batches import run_batches
from app.campaigns import launch, recall
from app.idempotency import service as idempotency
from app.layers import rfm
from app.mall import benefits, coupon_reminders, coupons
from app.members import tier_review
from app.messaging import outbox
from app.messaging.delivery import Outcome, deliver
from app.numbers import rollup
from app.points import expiry
from app.tasks.queue import current_run, get_queue, run_inline
from app.tasks.runs import recorded

# set while a dispatch job is queued, so commits with events enqueue at most one more
DISPATCH_QUEUED_KEY = "membermall:outbox:dispatch-queued"


class SendLater(Exception):
    """WeChat could not take the message now: RQ retries the job after its backoff."""


def send_message(message_id: int) -> str:
    run = current_run()  # rq's job, or the in-process run: its id is the claim's, kept across retries
    outcome = deliver(message_id, run.id, last_attempt=not run.retries_left)
    if outcome is Outcome.RETRY:
        raise SendLater(f"message {message_id}: WeChat unavailable, will retry")
    return outcome.value


def enqueue_sends(message_ids: list[int]) -> None:
    config = current_app.config
    intervals = [int(seconds) for seconds in config["MESSAGE_RETRY_INTERVALS"].split(",")]
    queue = get_queue()
    if queue is None:
        for message_id in message_ids:
            run_inline(send_message, message_id, retry_intervals=intervals)
        return
    queue.enqueue_many([
        Queue.prepare_data(send_message, args=(message_id,), timeout=config["MESSAGE_JOB_TIMEOUT"],
                           retry=Retry(max=len(intervals), interval=intervals), result_ttl=0)
        for message_id in message_ids])


@recorded("dispatch_outbox", only_when_busy=True)
def dispatch_outbox() -> dict:
    redis = current_app.extensions.get("redis")
    if redis is not None:
        redis.delete(DISPATCH_QUEUED_KEY)  # events committed from now on need another run
    return run_batches(outbox.dispatch_pending(enqueue_sends))


@recorded("expire_points")
def expire_points() -> dict:
    return run_batches(expiry.expire_overdue())


@recorded("remind_points_expiring")
def remind_points_expiring() -> dict:
    return run_batches(expiry.remind_expiring())


@recorded("review_tiers")
def review_tiers() -> dict:
    return run_batches(tier_review.review_due())


@recorded("warn_tier_downgrades")
def warn_tier_downgrades() -> dict:
    return run_batches(tier_review.warn_upcoming())


@recorded("expire_coupons")
def expire_coupons() -> dict:
    return run_batches(coupons.expire_coupons())


@recorded("remind_coupons_expiring")
def remind_coupons_expiring() -> dict:
    return run_batches(coupon_reminders.remind_expiring())


@recorded("grant_monthly_benefits")
def grant_monthly_benefits() -> dict:
    return run_batches(benefits.grant_monthly())


@recorded("grant_birthday_benefits")
def grant_birthday_benefits() -> dict:
    return run_batches(benefits.grant_birthdays())


@recorded("expire_benefits")
def expire_benefits() -> dict:
    return benefits.expire_unclaimed()


@recorded("remind_benefits_expiring")
def remind_benefits_expiring() -> dict:
    return run_batches(benefits.remind_expiring())


@recorded("purge_idempotency_records")
def purge_idempotency_records() -> dict:
    return run_batches(idempotency.purge_expired())


@recorded("roll_up_numbers")
def roll_up_numbers() -> dict:
    return run_batches(rollup.roll_up())


@recorded("roll_up_today")
def roll_up_today() -> dict:
    return rollup.roll_up_today()


@recorded("compute_layers")
def compute_layers() -> dict:
    """RFM scores and layers, then the churn recall's newcomers (committed with them), then
    the launch sweep, so the recalled are reached in the same run."""
    counts = rfm.compute_layers()
    counts |= run_batches(recall.enroll_entrants())
    return counts | run_batches(launch.run_due())


@recorded("run_campaigns", only_when_busy=True)
def run_campaigns() -> dict:
    return run_batches(launch.run_due())
