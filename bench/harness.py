"""What every benchmark needs: a fresh PostgreSQL database with the migrated schema, the
app served by gunicorn, a load generator bounded in time, the machine's conditions and
a results file. Processes started here are stopped here, on failure and on SIGTERM too.
"""
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.security import MEMBER, issue_token

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
LUA_DIR = ROOT / "bench" / "lua"
VENV_BIN = Path(sys.executable).parent

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET_KEY = "bench-secret-key-for-local-benchmarks-only"  # production mode wants >= 32 bytes


def mint_tokens(path: Path, members: int, count: int) -> Path:
    """Tokens of `count` random members (app.security.issue_token, as the login would)."""
    ids = random.sample(range(1, members + 1), min(count, members))
    path.write_text("\n".join(issue_token(SECRET_KEY, MEMBER, member_id) for member_id in ids) + "\n")
    return path


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `finally` blocks stop the servers we started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def ensure_command(command: str, apt_package: str) -> None:
    """Install a Debian package when its command is missing (as scripts/ensure-services.sh does)."""
    if shutil.which(command):
        return
    print(f"installing {apt_package}", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", apt_package], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)


# --- database ---------------------------------------------------------------------

def recreate_database(url: str = DATABASE_URL) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "recreate_pg_database.py"), url], check=True,
                   stdout=subprocess.DEVNULL)


def migrate(url: str = DATABASE_URL) -> None:
    """The schema from the migrations, as in production (every head)."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="heads")


def connect(url: str = DATABASE_URL) -> psycopg.Connection:
    """A plain psycopg connection for set-based loading (SQL, not one ORM call per row)."""
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def vacuum_analyze(url: str = DATABASE_URL, *tables: str) -> None:
    """Statistics and visibility map as a settled production database would have them
    (all tables, or those named)."""
    with connect(url) as conn:
        conn.autocommit = True
        conn.execute(f"VACUUM ANALYZE {', '.join(tables)}")


# --- the app under gunicorn ---------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop the process group we started (the gunicorn master and its workers)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_ready(base_url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {log}")


@contextmanager
def gunicorn(env: dict, workers: int, worker_class: str = "sync", threads: int = 1,
             log_name: str = "gunicorn", app: str = "wsgi:app") -> Iterator[str]:
    """Serve `app` (production's `wsgi:app` unless told) on 127.0.0.1 with `env` added to ours;
    yield its base URL."""
    port = _free_port()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log = RESULTS_DIR / f"{log_name}.log"
    command = [str(VENV_BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
               "--log-level", "warning"]
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, process, log)
        yield base_url
    finally:
        _stop(process)


def get_json(url: str, token: str) -> tuple[int, dict]:
    """One request outside the load, to check an endpoint answers as the benchmark expects."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# --- load ---------------------------------------------------------------------------

def wrk(url: str, lua_scripts: Sequence[str], seconds: int, connections: int, threads: int = 1,
        env: dict | None = None) -> dict:
    """Run wrk for `seconds` with the given bench/lua scripts; return its figures.

    The scripts are joined with report.lua, whose done() prints the figures as JSON.
    Figures: requests, requests_per_s, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, non_2xx, socket_errors.
    """
    source = "\n".join((LUA_DIR / name).read_text() for name in (*lua_scripts, "report.lua"))
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(source)
        script.flush()
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                   "-s", script.name, url]
        output = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                                timeout=seconds + 60, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    figures = {"requests": raw["requests"], "requests_per_s": raw["requests"] / (raw["duration_us"] / 1e6)}
    figures |= {f"{name}_ms": raw[f"{name}_us"] / 1000 for name in ("p50", "p90", "p95", "p99", "max")}
    figures |= {"non_2xx": raw["non_2xx"], "socket_errors": raw["socket_errors"]}
    return figures


# --- reporting ------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_conditions(url: str = DATABASE_URL) -> dict:
    """What the figures depend on: CPUs, the load other processes put on them, versions."""
    with connect(url) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": postgres,
        "wrk": shutil.which("wrk") and subprocess.run(["wrk", "--version"], capture_output=True,
                                                      text=True).stdout.split("\n")[0].strip(),
    }


def write_results(name: str, results: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path
