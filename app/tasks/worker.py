"""The RQ worker for membermall jobs, as README.md starts it:
`rq worker -w app.tasks.worker.AppWorker --with-scheduler --url "$REDIS_URL" membermall`
(--with-scheduler: rq's scheduler puts delayed retries back on the queue).

One Flask app per worker process (built from the environment, like the web app), an
app context per job. It runs jobs in its own process (rq's SimpleWorker) rather than
forking one per job: jobs are short database and HTTP calls, and keeping the process
keeps its connection pools and the WeChat client (its token is in Redis anyway). Job
timeouts still apply (SIGALRM). Scale with more worker processes.
"""
from rq.worker import SimpleWorker


class AppWorker(SimpleWorker):
    def __init__(self, *args, app=None, **kwargs):
        super().__init__(*args, **kwargs)
        if app is None:
            from app import create_app

            app = create_app()
        self.app = app

    def execute_job(self, job, queue):
        with self.app.app_context():
            return super().execute_job(job, queue)
