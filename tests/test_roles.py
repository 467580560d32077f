"""Operator roles over the whole admin route table: analysts read, operators read and write,
admins alone manage operator accounts. Routes are read from the app's url_map, so a write
endpoint added later that an analyst could call fails here."""
import pytest
from sqlalchemy import select, update

from app.errors import AppError
from app.extensions import db
from app.operators import service as operators
from app.operators.models import Operator
from app.operators.roles import ADMIN, ANALYST, OPERATOR
from app.security import ADMIN as ADMIN_AUDIENCE
from tests.api_routes import audience_routes, error_of, snapshot, token, two_stores, writes
from tests.api_steps import error_code
from tests.helpers import Caller, add_account, run_in_threads

ADMIN_API = "/api/v1/admin"
ROLE_FORBIDDEN = (403, "ROLE_FORBIDDEN")
# Open to every role: one's own session (logout, one's own password).
OWN_SESSION = {f"POST {ADMIN_API}/logout", f"POST {ADMIN_API}/password"}
ACCOUNTS_PREFIX = f"{ADMIN_API}/operators"  # operator accounts: admins only


@pytest.fixture
def scene(world):
    return two_stores(world)


def caller_with_role(app, role: str, username: str | None = None) -> Caller:
    with app.app_context():
        account = add_account(Operator, username or f"{role}-1", name=role, role=role)
        db.session.commit()
        return Caller(app, token(app, ADMIN_AUDIENCE, account.id), logged_in=True)


def outcomes(app, scene, caller, route_list) -> dict[str, tuple]:
    return {str(route): error_of(caller.request(route.method, route.url(app, scene["ids"]), json={}))
            for route in route_list}


def test_an_analyst_reads_everything_and_writes_nothing(app, scene):
    analyst = caller_with_role(app, ANALYST)
    routes = audience_routes(app, "admin")
    reads = [route for route in routes if not writes(route)]
    write_routes = [route for route in routes if writes(route) and str(route) not in OWN_SESSION]
    assert reads and write_routes, "no routes found: the enumeration is broken"
    readable = outcomes(app, scene, analyst, [r for r in reads if not r.path.startswith(ACCOUNTS_PREFIX)])
    assert [route for route, outcome in readable.items() if outcome == ROLE_FORBIDDEN] == []
    before = snapshot(app)
    refused = outcomes(app, scene, analyst, write_routes)
    assert {route: outcome for route, outcome in refused.items() if outcome != ROLE_FORBIDDEN} == {}
    assert snapshot(app) == before, "a refused request wrote something"


def test_an_operator_writes_but_never_touches_operator_accounts(app, scene):
    operator = caller_with_role(app, OPERATOR)
    routes = audience_routes(app, "admin")
    accounts = [route for route in routes if route.path.startswith(ACCOUNTS_PREFIX)]
    others = [route for route in routes if not route.path.startswith(ACCOUNTS_PREFIX)]
    assert accounts and others
    before = snapshot(app)
    assert {route: outcome for route, outcome in outcomes(app, scene, operator, accounts).items()
            if outcome != ROLE_FORBIDDEN} == {}
    assert snapshot(app) == before
    assert [route for route, outcome in outcomes(app, scene, operator, others).items()
            if outcome == ROLE_FORBIDDEN] == []


def test_an_admin_is_refused_nowhere(app, scene):
    admin = caller_with_role(app, ADMIN, "admin-2")
    assert [route for route, outcome in outcomes(app, scene, admin, audience_routes(app, "admin")).items()
            if outcome == ROLE_FORBIDDEN] == []


def test_every_role_logs_out_and_changes_its_own_password(app, world):
    for role in (ANALYST, OPERATOR):
        caller = caller_with_role(app, role)
        reply = caller.post(f"{ADMIN_API}/password",
                            json={"current_password": "wrong-password", "new_password": "x" * 8})
        assert error_code(reply) == "CURRENT_PASSWORD_WRONG"  # past the role check
        assert caller.post(f"{ADMIN_API}/logout").status_code == 204


def operator_row(app, operator_id: int) -> Operator:
    with app.app_context():
        return db.session.get(Operator, operator_id)


def test_an_admin_changes_a_role_and_the_account_logs_in_again(app, world):
    admin = world.admin()
    created = admin.post(f"{ADMIN_API}/operators", json={"username": "ana", "password": "ana-pass-123", "name": "安",
                                                         "role": ANALYST}).json
    ana = Caller(app, Caller(app).post("/api/v1/auth/admin/login",
                                       json={"username": "ana", "password": "ana-pass-123"}).json["token"])
    assert error_code(ana.post(f"{ADMIN_API}/tiers", json={})) == "ROLE_FORBIDDEN"
    changed = admin.post(f"{ADMIN_API}/operators/{created['id']}/role", json={"role": OPERATOR})
    assert (changed.status_code, changed.json["role"]) == (200, OPERATOR)
    assert error_code(ana.get(f"{ADMIN_API}/tiers")) == "AUTH_INVALID"  # its tokens ended with the change
    again = Caller(app, Caller(app).post("/api/v1/auth/admin/login",
                                         json={"username": "ana", "password": "ana-pass-123"}).json["token"])
    assert error_code(again.post(f"{ADMIN_API}/tiers", json={})) == "VALIDATION_ERROR"  # past the role check
    for invalid in ({"role": "root"}, {}):
        assert error_code(admin.post(f"{ADMIN_API}/operators/{created['id']}/role", json=invalid)) == "VALIDATION_ERROR"
    assert error_code(admin.post(f"{ADMIN_API}/operators/999999/role", json={"role": ADMIN})) == "OPERATOR_NOT_FOUND"


def test_the_last_active_admin_keeps_the_role(app, world):
    admin = world.admin()
    with app.app_context():
        me = db.session.execute(select(Operator).where(Operator.username == "operator")).scalar_one().id
        disabled = add_account(Operator, "old-admin", name="旧", role=ADMIN, active=False).id
        db.session.commit()
    before = snapshot(app)
    refused = admin.post(f"{ADMIN_API}/operators/{me}/role", json={"role": ANALYST})
    assert (refused.status_code, error_code(refused)) == (409, "OPERATOR_LAST_ADMIN")  # a disabled admin does not count
    assert snapshot(app) == before
    assert admin.post(f"{ADMIN_API}/operators/{disabled}/role", json={"role": ANALYST}).json["role"] == ANALYST
    with app.app_context():
        add_account(Operator, "admin-2", name="二", role=ADMIN)
        db.session.commit()
    assert admin.post(f"{ADMIN_API}/operators/{me}/role", json={"role": ANALYST}).json["role"] == ANALYST
    assert operator_row(app, me).role == ANALYST


def test_two_admins_demoting_themselves_at_once_leave_one_admin(app, world):
    """Each holds every active admin's row before counting: the second finds itself the last. Twenty rounds."""
    with app.app_context():
        ids = [add_account(Operator, f"boss-{i}", name=f"boss {i}", role=ADMIN).id for i in range(2)]
        db.session.execute(update(Operator).where(Operator.id.not_in(ids)).values(role=ANALYST))
        db.session.commit()
    for round_ in range(20):
        with app.app_context():
            db.session.execute(update(Operator).where(Operator.id.in_(ids)).values(role=ADMIN, token_version=0))
            db.session.commit()
        callers = [Caller(app, token(app, ADMIN_AUDIENCE, id_)) for id_ in ids]
        replies = run_in_threads(2, lambda i: callers[i].post(f"{ADMIN_API}/operators/{ids[i]}/role",
                                                              json={"role": OPERATOR}))
        assert sorted(error_of(reply) for reply in replies) == [(200, None), (409, "OPERATOR_LAST_ADMIN")], round_
        with app.app_context():
            assert db.session.execute(select(Operator.id).where(Operator.role == ADMIN)).scalars().all() != [], round_


def test_an_admin_demoted_meanwhile_is_refused_under_the_lock(app, world):
    """Authenticated as an admin, demoted before its request takes the lock: the check under the
    lock refuses it (the service is called as the request would, with the admin it loaded)."""
    with app.app_context():
        actor = add_account(Operator, "boss", name="boss", role=ADMIN)
        target = add_account(Operator, "someone", name="x", role=OPERATOR)
        db.session.commit()
        db.session.execute(update(Operator).where(Operator.id == actor.id).values(role=OPERATOR))
        with pytest.raises(AppError) as refused:
            operators.set_operator_active(actor, target.id, False)
        assert refused.value.code == "ROLE_FORBIDDEN"
        db.session.rollback()
