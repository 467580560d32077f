"""Run a command while holding the test databases it names, so that two test runs on one
machine never share them (the PostgreSQL run drops its database WITH FORCE, every test
empties its Redis database): the second run is refused with a message saying what to do.

    python scripts/exclusive.py URL [URL ...] -- COMMAND [ARG ...]

Each URL (PG_TEST_URL, PG_TEST_REDIS_URL, SQLITE_TEST_REDIS_URL) is held by an exclusive lock (flock) on a file in
the temporary directory named after it, for as long as the command runs; the lock ends
with this process, however it ends. The command's own runs of this script (`make test`
runs `make test-sqlite test-postgres`) do not wait for the URLs it holds.
"""
import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

HELD = "MEMBERMALL_TEST_HOLDS"  # the URLs this run holds, for the runs it starts


def lock_path(url: str) -> str:
    return os.path.join(tempfile.gettempdir(), f"membermall-test-{hashlib.sha256(url.encode()).hexdigest()[:16]}.lock")


def shown(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


def hold(url: str):
    """The locked file, or exit with the message when another run holds it."""
    file = open(lock_path(url), "a+")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        sys.exit(f"another test run (pid {file.read().strip() or '?'}) is using {shown(url)} "
                 f"(lock {lock_path(url)}). Wait for it to end, or give this run its own names: "
                 "PG_TEST_URL=postgresql+psycopg://…/membermall_test_2 "
                 "PG_TEST_REDIS_URL=redis://127.0.0.1:6379/12 "
                 "SQLITE_TEST_REDIS_URL=redis://127.0.0.1:6379/13 make test")
    file.truncate(0)
    file.write(f"{os.getpid()}\n")
    file.flush()
    return file


def main(argv: list[str]) -> int:
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    urls, command = argv[:split], argv[split + 1:]
    held = set(os.environ.get(HELD, "").split())
    locks = [hold(url) for url in urls if url not in held]
    try:
        return subprocess.call(command, env={**os.environ, HELD: " ".join(sorted(held | set(urls)))})
    finally:
        for file in locks:
            file.close()  # releases the lock


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
