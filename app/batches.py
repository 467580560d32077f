"""The one contract between a job and the service it calls: the service works, the job commits.

No service a job calls commits. One that works in a single transaction returns its counts
and the job commits them (app/tasks/runs.recorded). A sweep that must commit as it goes
(bounded batches, SKIP LOCKED: never a long transaction, never many locks at once) is a
generator, `Batches`: it yields at the end of each batch, where `run_batches` commits,
carries on after that commit (what must follow a commit, such as enqueueing the messages
a batch wrote, comes right after its `yield`), and returns its counts. Jobs, the CLI,
benchmarks and tests all run a sweep with `run_batches`.
"""
from collections.abc import Generator

from app.extensions import db

Batches = Generator[None, None, dict]  # yields once per batch (commit here), returns the counts


def run_batches(sweep: Batches) -> dict:
    """Run a sweep to its end, committing each batch and what follows the last: its counts."""
    while True:
        try:
            next(sweep)
        except StopIteration as done:
            db.session.commit()
            return done.value
        db.session.commit()
