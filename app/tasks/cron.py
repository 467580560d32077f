"""The production scheduler: `python -m app.tasks.cron` (on REDIS_URL). Run exactly one.

It is rq's cron scheduler with the schedule of app/tasks/cron_config.py, as `rq cron`
runs it, with one difference: rq 3.0's loop lets a Redis error out, so `rq cron` exits
when Redis goes away and the schedule stops until someone starts it again. This one
keeps its scheduler (each job's next time), waits for Redis and starts the loop again; a
job that fell due meanwhile is enqueued as soon as Redis answers. SIGTERM or SIGINT
stop it, as they stop `rq cron`. It runs in BUSINESS_TZ (`use_business_zone`): rq's cron
reads the schedule's cron fields in the process's local time.
"""
import logging
import os
import time

from redis import Redis
from redis.exceptions import ConnectionError, TimeoutError
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from app.config import ConfigError, load_config

SCHEDULE = "app.tasks.cron_config"
RECONNECT_SECONDS = 2.0  # between attempts while Redis does not answer

logger = logging.getLogger(__name__)


class _CronScheduler(CronScheduler):
    stop_requested = False

    def _request_stop(self, signum, frame):  # rq's handler of SIGTERM and SIGINT
        self.stop_requested = True
        super()._request_stop(signum, frame)


def use_business_zone(config) -> None:
    """Set this process's local zone to BUSINESS_TZ, for rq's cron (the scheduler's process only)."""
    os.environ["TZ"] = config["BUSINESS_TZ"]
    time.tzset()


def run(redis_url: str) -> None:
    scheduler = _CronScheduler(connection=Redis.from_url(redis_url))
    scheduler.load_config_from_file(SCHEDULE)
    try:
        while not scheduler.stop_requested:
            try:
                scheduler.start()  # returns once stopped
            except (ConnectionError, TimeoutError) as error:
                logger.warning("Redis unavailable (%s): the schedule resumes when it answers", error)
                time.sleep(RECONNECT_SECONDS)
    except StopRequested:  # a signal while waiting for Redis
        pass


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = load_config()
    if not config["REDIS_URL"]:
        raise ConfigError("python -m app.tasks.cron needs REDIS_URL")
    use_business_zone(config)
    run(config["REDIS_URL"])
