"""Two test runs on one machine never share their databases: scripts/exclusive.py (which
`make test` runs the suite under) refuses a second run that names a URL a running one holds.
Real processes; the URLs are made up for each test, so no real run is disturbed."""
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

EXCLUSIVE = [sys.executable, str(Path(__file__).parent.parent / "scripts" / "exclusive.py")]
PRINT_RAN = [sys.executable, "-c", "print('ran')"]


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*EXCLUSIVE, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def urls() -> tuple[str, str]:
    name = uuid.uuid4().hex
    return f"postgresql+psycopg://postgres:secret@127.0.0.1:5432/membermall_{name}", f"redis://127.0.0.1:6379/{name}"


@pytest.fixture
def running(urls):
    """A run holding both URLs until the test ends."""
    process = subprocess.Popen([*EXCLUSIVE, *urls, "--", sys.executable, "-c",
                                "import sys; print('holding', flush=True); sys.stdin.read()"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "holding\n"  # the command starts once the locks are held
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_second_run_on_a_url_a_run_holds_is_refused_with_what_to_do(urls, running):
    pg_url, redis_url = urls
    for url in (pg_url, redis_url):
        refused = run(url, "--", *PRINT_RAN)
        assert refused.returncode != 0 and refused.stdout == ""
        assert "another test run" in refused.stderr and f"pid {running.pid}" in refused.stderr
        assert "PG_TEST_URL=" in refused.stderr and "TEST_REDIS_URL=" in refused.stderr
    assert "secret" not in run(pg_url, "--", *PRINT_RAN).stderr  # the password is not shown


def test_other_urls_run_alongside_and_a_url_is_free_again_once_its_run_ends(urls, running):
    other = run(f"redis://127.0.0.1:6379/{uuid.uuid4().hex}", "--", *PRINT_RAN)
    assert (other.returncode, other.stdout) == (0, "ran\n")
    running.stdin.close()
    assert running.wait(timeout=30) == 0
    again = run(*urls, "--", *PRINT_RAN)
    assert (again.returncode, again.stdout) == (0, "ran\n")


def test_the_runs_a_run_starts_share_what_it_holds_and_the_commands_exit_code_is_kept(urls):
    nested = run(*urls, "--", *EXCLUSIVE, urls[0], "--", sys.executable, "-c", "print('ran'); raise SystemExit(3)")
    assert (nested.returncode, nested.stdout) == (3, "ran\n")
