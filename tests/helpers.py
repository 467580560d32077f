"""Test helpers: a small world of tiers, stores, staff and callers holding tokens."""
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache

from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from app import create_app
from app.demo import TIERS
from app.extensions import db
from app.member_row import Member, Tier
from app.operators.models import Operator
from app.points.models import GROWTH, POINTS, LedgerEntry, LotConsumption, PointLot
from app.security import issue_token, read_token, token_in_date
from app.stores.models import MANAGER, Staff, Store

PASSWORD = "correct-horse-1"
# each parallel test run takes its own Redis database
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Caller:
    """A test client that sends one audience's token (or none).

    A caller that logged in (`logged_in=True`) stands for a user who logs in again whenever
    the test's clock (time_machine) has left the token's validity, travelled back before its
    issue or past its lifetime: the token is signed anew under that clock with the same
    claims (account and token version), as that login would answer, without the login's
    WeChat call or password check. A test of tokens themselves sends its token as it is.
    """

    def __init__(self, app, token=None, logged_in=False):
        self.app = app
        self.token = token
        self.logged_in = logged_in

    def request(self, method, path, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.logged_in:
            self.token = token_under_the_clock(self.app, self.token)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.app.test_client() as client:
            return client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)


def token_under_the_clock(app, token: str) -> str:
    """`token`, or the same claims signed now if the clock is outside its validity."""
    secret = app.config["SECRET_KEY"]
    claims, issued_at = read_token(secret, token)
    lifetime = app.config[f"{claims['aud'].upper()}_TOKEN_TTL"]
    if token_in_date(issued_at, lifetime, datetime.now(timezone.utc)):
        return token
    return issue_token(secret, claims["aud"], claims["sub"], claims["ver"])


@dataclass
class World:
    app: object
    tiers: dict = field(default_factory=dict)  # name -> id
    stores: dict = field(default_factory=dict)  # code -> id
    staff_ids: dict = field(default_factory=dict)  # username -> id

    def login(self, audience, username):
        credentials = {"username": username, "password": PASSWORD}
        reply = Caller(self.app).post(f"/api/v1/auth/{audience}/login", json=credentials)
        assert reply.status_code == 200, reply.json
        return Caller(self.app, reply.json["token"], logged_in=True)

    def staff(self, username="clerk-a"):
        return self.login("staff", username)

    def admin(self):
        return self.login("admin", "operator")

    def member(self, code="alice"):
        """Log in through the fake WeChat; returns (caller, member id)."""
        reply = Caller(self.app).post("/api/v1/auth/member/login", json={"code": code})
        assert reply.status_code == 200, reply.json
        caller = Caller(self.app, reply.json["token"], logged_in=True)
        caller.member_id = reply.json["member_id"]
        return caller


@cache
def password_hash() -> str:
    """PASSWORD hashed once per run, with few rounds: the default scrypt costs ~0.25 s to make
    and again to check at every login. Production hashes are unaffected."""
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def add_account(model, username: str, **fields):
    """app.accounts.create_account with PASSWORD, but with the cheap hash above."""
    account = model(username=username, password_hash=password_hash(), **fields)
    db.session.add(account)
    db.session.flush()
    return account


def build_world(app) -> World:
    world = World(app)
    with app.app_context():
        for level, name, threshold, multiplier, benefits in TIERS:
            tier = Tier(level=level, name=name, growth_threshold=threshold, points_multiplier_pct=multiplier,
                        benefits=benefits)
            db.session.add(tier)
            db.session.flush()
            world.tiers[name] = tier.id
        for code in ("A", "B"):
            store = Store(code=code, name=f"Store {code}")
            db.session.add(store)
            db.session.flush()
            world.stores[code] = store.id
            for role in ("clerk", MANAGER):
                username = f"{role}-{code.lower()}"
                staff = add_account(Staff, username, name=username, store_id=store.id, role=role)
                world.staff_ids[username] = staff.id
        add_account(Operator, "operator", name="Operator")
        db.session.commit()
    return world


def run_in_threads(count, work):
    """Run work(i) in `count` threads released at once; return the results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # surfaced to the test as a result
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def in_background(work) -> Future:
    """Start work() on a thread; its future."""
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(work)
    executor.shutdown(wait=False)
    return future


def wait_until(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.02)


def wait_until_wechat_answers_late(fake_wechat, path: str) -> None:
    """Until the fake WeChat holds a call to `path` it has not answered yet (see its delay switch)."""
    wait_until(lambda: any(call["errcode"] is None for call in fake_wechat.calls(path)), f"a call to {path}")


@contextmanager
def events_heard(target, name: str, keep=lambda *args: args):
    """What `keep` makes of each SQLAlchemy event `name` of `target` heard meanwhile (None: left out)."""
    heard = []

    def record(*args):
        if (kept := keep(*args)) is not None:
            heard.append(kept)

    event.listen(target, name, record)
    try:
        yield heard
    finally:
        event.remove(target, name, record)


def statements_run(starting_with: str):
    """The SQL statements starting with `starting_with` that run meanwhile (call in an app context)."""
    return events_heard(db.engine, "after_cursor_execute",
                        lambda _connection, _cursor, statement, *_: statement
                        if statement.lstrip().startswith(starting_with) else None)


def ledger_state(member_id):
    """The member's caches next to what the ledger and the lots say (call in an app context)."""
    db.session.expire_all()
    member = db.session.get(Member, member_id)

    def entries(account):
        return db.session.execute(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
            LedgerEntry.member_id == member_id, LedgerEntry.account == account)).scalar_one()

    lots = db.session.execute(select(PointLot).where(PointLot.member_id == member_id)).scalars().all()
    drawn = dict(db.session.execute(
        select(LotConsumption.lot_id, func.sum(LotConsumption.amount))
        .where(LotConsumption.lot_id.in_([lot.id for lot in lots])).group_by(LotConsumption.lot_id)
    ).all())
    return {
        "balance": member.points_balance,
        "points_entries": entries(POINTS),
        "open_lots": sum(lot.remaining for lot in lots),
        "growth": member.growth,
        "growth_entries": entries(GROWTH),
        "lots_match_consumptions": all(lot.amount - lot.remaining == drawn.get(lot.id, 0) for lot in lots),
    }


def assert_ledger_consistent(member_id):
    state = ledger_state(member_id)
    assert state["balance"] == state["points_entries"], state
    assert state["open_lots"] == max(state["balance"], 0), state
    assert state["growth"] == state["growth_entries"], state
    assert state["lots_match_consumptions"], state
    return state


@contextmanager
def another_app(app, redis_url: str | None, factory=create_app, **config):
    """An app on the test's database, secret and fake WeChat, with a Redis of its own
    (None: the embedded default's in-process jobs and in-memory limits) and other settings,
    built by `factory` (create_app unless told)."""
    shared = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WECHAT_API_BASE", "OUTBOX_NUDGE_INTERVAL")
    other = factory({**{key: app.config[key] for key in shared}, "REDIS_URL": redis_url,
                        "RATELIMIT_STORAGE_URI": redis_url or "memory://", **config})
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
