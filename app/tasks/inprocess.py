"""The embedded default's scheduler: a thread in `flask serve` that runs the schedule.

Without Redis there are no rq workers: this thread runs each scheduled job in-process
when due (cron fields in BUSINESS_TZ, as the production scheduler does), and the jobs run
what they would enqueue (sends) in the same thread. It runs every entry once at start,
so a newcomer sees them work, and the dispatcher at once when a commit wrote outbox
events. It also keeps the jobs to retry later (a send WeChat answered busy, with the
MESSAGE_RETRY_INTERVALS backoff, as rq's Retry does in production; app/tasks/queue.py).
"""
import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from croniter import croniter

from app.clock import business_tz, now
from app.tasks.schedule import Scheduled, schedule

logger = logging.getLogger(__name__)
LONGEST_SLEEP = 60.0


class InProcessScheduler:
    def __init__(self, app):
        self.app = app
        self.entries = schedule(app.config)
        started = now()
        self._next = {entry.name: started for entry in self.entries}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._later: list[tuple[datetime, int, Callable[[], None]]] = []  # a heap: (due, order, retry)
        self._order = itertools.count()
        self._later_lock = threading.Lock()

    def wake(self) -> None:
        """A commit wrote outbox events: dispatch them now."""
        self._wake.set()

    def later(self, seconds: float, retry: Callable[[], None]) -> None:
        """Run `retry` (in an app context) once, `seconds` from now."""
        with self._later_lock:
            heapq.heappush(self._later, (now() + timedelta(seconds=seconds), next(self._order), retry))

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def tick(self) -> list[str]:
        """Run what is due now; the names of the jobs run."""
        at = now()
        if self._wake.is_set():
            self._wake.clear()
            for entry in self.entries:
                if entry.wakes_on_commit:
                    self._next[entry.name] = at
        ran = []
        for entry in self.entries:
            if self._next[entry.name] <= at:
                self._run(entry)
                self._next[entry.name] = self._following(entry, at)
                ran.append(entry.name)
        for retry in self._due_retries(at):
            with self.app.app_context():
                retry()
        return ran

    def _due_retries(self, at: datetime) -> list[Callable[[], None]]:
        with self._later_lock:
            due = []
            while self._later and self._later[0][0] <= at:
                due.append(heapq.heappop(self._later)[2])
            return due

    def _following(self, entry: Scheduled, after: datetime) -> datetime:
        if entry.interval:
            return after + timedelta(seconds=entry.interval)
        with self.app.app_context():
            local = after.astimezone(business_tz())
        return croniter(entry.cron, local).get_next(datetime)

    def _run(self, entry: Scheduled) -> None:
        with self.app.app_context():
            try:
                entry.job()
            except Exception:
                logger.exception("scheduled job %s failed", entry.name)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self.tick()
            with self._later_lock:
                next_retry = [self._later[0][0]] if self._later else []
            wait = (min([*self._next.values(), *next_retry]) - now()).total_seconds()
            self._wake.wait(timeout=min(max(wait, 0.0), LONGEST_SLEEP))


def start_inprocess_scheduler(app) -> InProcessScheduler:
    scheduler = InProcessScheduler(app)
    app.extensions["inprocess_scheduler"] = scheduler
    threading.Thread(target=scheduler.run_forever, name="scheduler", daemon=True).start()
    return scheduler
