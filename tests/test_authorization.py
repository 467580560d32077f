"""Authorization over the whole route table: every endpoint refuses a missing, bad or
foreign-audience token, and no caller reaches another member's or another store's data.

Routes are read from the app's url_map, so an endpoint added later is covered without
editing this file; a route someone forgets to protect fails here.
"""
import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update

from app.extensions import db
from app.security import _SALT as TOKEN_SALT
from app.security import ADMIN, MEMBER, STAFF, issue_token
from app.stores.models import Staff
from tests.api_routes import (
    API_PREFIX,
    AUDIENCES,
    PUBLIC_PREFIX,
    audience_routes,
    error_of,
    routes,
    snapshot,
    two_stores,
)
from tests.api_steps import PURCHASES, buy, lookup_ticket
from tests.helpers import Caller

SECRET = "test-secret"  # the suite's SECRET_KEY (tests/conftest.py)
MEMBER_ID_PARAMS = {"member_id"}
STORE_ID_PARAMS = {"store_id"}


@pytest.fixture
def scene(world):
    return two_stores(world)


def own_token(scene, audience: str) -> str:
    return scene[{MEMBER: "alice", STAFF: "manager_a", ADMIN: "admin"}[audience]].token


def refusals(app, scene, route_list, caller, expected: tuple[int, str], headers=None) -> list[str]:
    """Each route the caller reaches with anything but the expected refusal."""
    wrong = []
    for route in route_list:
        reply = caller.request(route.method, route.url(app, scene["ids"]), json={}, headers=headers)
        if error_of(reply) != expected:
            wrong.append(f"{route}: {error_of(reply)}")
    return wrong


def assert_refused_everywhere(app, scene, route_list, token: str | None, expected: tuple[int, str], headers=None):
    assert route_list, "no routes found: the enumeration is broken"
    assert refusals(app, scene, route_list, Caller(app, token), expected, headers) == []


@pytest.fixture
def nothing_written(app, scene):
    """Whatever the test is refused, no row of any table changes."""
    before = snapshot(app)
    yield
    assert snapshot(app) == before, "a refused request wrote something"


def protected_routes(app):
    return [route for route in routes(app) if not route.path.startswith(PUBLIC_PREFIX)]


# --- the route table itself -------------------------------------------------------------


def test_every_api_route_lives_under_auth_or_one_audience(app):
    """A route outside these prefixes would escape the audience checks below."""
    prefixes = tuple(f"{API_PREFIX}{name}/" for name in (*AUDIENCES, "auth"))
    assert [str(route) for route in routes(app) if not route.path.startswith(prefixes)] == []


@pytest.mark.usefixtures("nothing_written")
def test_every_route_outside_auth_requires_a_token(app, scene):
    """Only the logins are public: any other /api/v1 route answers 401 AUTH_REQUIRED without a token."""
    assert_refused_everywhere(app, scene, protected_routes(app), None, (401, "AUTH_REQUIRED"))


@pytest.mark.usefixtures("nothing_written")
def test_a_non_bearer_authorization_header_counts_as_no_token(app, scene):
    for header in ("Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer ", "Token abc"):
        assert_refused_everywhere(app, scene, protected_routes(app), None, (401, "AUTH_REQUIRED"),
                                  headers={"Authorization": header})


def test_member_routes_take_no_member_id(app):
    """A member's routes act on the token's member only: no path or query parameter names one."""
    assert [str(route) for route in audience_routes(app, MEMBER) if route.params & MEMBER_ID_PARAMS] == []
    spec = Caller(app).get("/openapi.json").json
    query_params = [
        (path, method, param["name"])
        for path, item in spec["paths"].items() if path.startswith(f"{API_PREFIX}member/")
        for method, operation in item.items() if isinstance(operation, dict)
        for param in operation.get("parameters", []) if param["name"] in MEMBER_ID_PARAMS
    ]
    assert query_params == []


def test_staff_routes_take_no_store_id(app):
    """Staff act in the store of their token: no staff route lets the caller name a store."""
    assert [str(route) for route in audience_routes(app, STAFF) if route.params & STORE_ID_PARAMS] == []


# --- tokens -----------------------------------------------------------------------------


def assert_invalid_everywhere(app, scene, audience: str, token: str):
    assert_refused_everywhere(app, scene, audience_routes(app, audience), token, (401, "AUTH_INVALID"))


@pytest.mark.usefixtures("nothing_written")
def test_a_garbage_token_is_invalid_everywhere(app, scene):
    for audience in AUDIENCES:
        for token in ("garbage", "a.b.c", "eyJhdWQiOiJtZW1iZXIifQ.AAAA.BBBB", "🙂" * 40):
            assert_invalid_everywhere(app, scene, audience, token)


@pytest.mark.usefixtures("nothing_written")
def test_a_token_signed_with_another_secret_is_invalid(app, scene):
    for audience in AUDIENCES:
        assert_invalid_everywhere(app, scene, audience, issue_token("not-the-secret", audience,
                                                                    scene["subjects"][audience]))


@pytest.mark.usefixtures("nothing_written")
def test_a_tampered_token_is_invalid(app, scene):
    """Flipping a signature character, or rewriting the payload to another audience, breaks the signature."""
    for audience in AUDIENCES:
        payload, timestamp, signature = own_token(scene, audience).split(".")
        # the first signature character: the last one's low bits are base64 padding a decoder ignores
        assert_invalid_everywhere(app, scene, audience,
                                  f"{payload}.{timestamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["aud"] == audience  # the payload really is what we rewrite
        for other in AUDIENCES:
            if other != audience:  # a member rewriting their token into a staff one, and so on
                forged = base64.urlsafe_b64encode(json.dumps({**claims, "aud": other}).encode()).decode()
                assert_invalid_everywhere(app, scene, other, f"{forged.rstrip('=')}.{timestamp}.{signature}")


@pytest.mark.usefixtures("nothing_written")
def test_a_token_past_its_lifetime_is_invalid(app, scene):
    readable = {MEMBER: "member/card", STAFF: f"staff/purchases/{scene['ids']['purchase_id']}", ADMIN: "admin/tiers"}
    now = datetime.now(timezone.utc)
    for audience in AUDIENCES:
        ttl = app.config[f"{audience.upper()}_TOKEN_TTL"]
        with time_machine.travel(now - timedelta(seconds=ttl + 5), tick=False):
            expired = issue_token(SECRET, audience, scene["subjects"][audience])
        with time_machine.travel(now - timedelta(seconds=ttl - 60), tick=False):
            fresh_enough = issue_token(SECRET, audience, scene["subjects"][audience])
        # the same subject's token a minute inside its lifetime still opens a route: expiry is what refuses
        assert Caller(app, fresh_enough).get(API_PREFIX + readable[audience]).status_code == 200
        assert_invalid_everywhere(app, scene, audience, expired)


@pytest.mark.usefixtures("nothing_written")
def test_a_token_issued_in_the_future_is_invalid(app, scene):
    """Minted by a server whose clock ran ahead, it would outlive its lifetime: refused
    beyond a minute of clock skew, accepted within it."""
    readable = {MEMBER: "member/card", STAFF: f"staff/purchases/{scene['ids']['purchase_id']}", ADMIN: "admin/tiers"}
    now = datetime.now(timezone.utc)
    for audience in AUDIENCES:
        with time_machine.travel(now + timedelta(minutes=5), tick=False):
            ahead = issue_token(SECRET, audience, scene["subjects"][audience])
        with time_machine.travel(now + timedelta(seconds=30), tick=False):
            skewed = issue_token(SECRET, audience, scene["subjects"][audience])
        assert Caller(app, skewed).get(API_PREFIX + readable[audience]).status_code == 200
        assert_invalid_everywhere(app, scene, audience, ahead)


MALFORMED_SUBJECTS = [[1], "1", True, False, 1.0, None, {"id": 1}, 0, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]


@pytest.mark.usefixtures("nothing_written")
def test_a_token_with_a_malformed_subject_is_invalid_never_a_500(app, scene):
    """Validly signed, so only the claims' checks stand between it and the database: a list,
    a string, a bool, a float, or a number no account id can be (below 1, past the INTEGER
    id columns, past 2**63) is 401 on every route of its audience."""
    serializer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT)
    for audience in AUDIENCES:
        for subject in MALFORMED_SUBJECTS:
            token = serializer.dumps({"aud": audience, "sub": subject, "ver": 0})
            assert_invalid_everywhere(app, scene, audience, token)


@pytest.mark.usefixtures("nothing_written")
def test_a_token_with_a_malformed_version_or_audience_is_invalid(app, scene):
    serializer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT)
    subject = scene["subjects"][MEMBER]
    for claims in ({"aud": MEMBER, "sub": subject}, {"aud": MEMBER, "sub": subject, "ver": "0"},
                   {"aud": MEMBER, "sub": subject, "ver": -1}, {"aud": MEMBER, "sub": subject, "ver": [0]},
                   {"aud": MEMBER, "sub": subject, "ver": False}, {"aud": [MEMBER], "sub": subject, "ver": 0},
                   {"aud": {"member": 1}, "sub": subject, "ver": 0}):
        assert_invalid_everywhere(app, scene, MEMBER, serializer.dumps(claims))
    # the same claims well formed open the routes: the malformation is what refuses
    well_formed = serializer.dumps({"aud": MEMBER, "sub": subject, "ver": 0})
    assert Caller(app, well_formed).get(f"{API_PREFIX}member/card").status_code == 200


@pytest.mark.usefixtures("nothing_written")
def test_a_token_for_someone_who_does_not_exist_is_invalid(app, scene):
    for audience in AUDIENCES:
        assert_invalid_everywhere(app, scene, audience, issue_token(SECRET, audience, 987654))


@pytest.mark.usefixtures("nothing_written")
def test_a_validly_signed_token_without_audience_and_subject_is_invalid(app, scene):
    for claims in ({"aud": MEMBER}, {"sub": scene["subjects"][MEMBER]}, [MEMBER, 1], MEMBER):
        assert_invalid_everywhere(app, scene, MEMBER, URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT).dumps(claims))


def test_a_deactivated_staff_account_loses_access_at_once(app, scene):
    with app.app_context():
        db.session.execute(update(Staff).where(Staff.id == scene["subjects"][STAFF]).values(active=False))
        db.session.commit()
    before = snapshot(app)
    assert_invalid_everywhere(app, scene, STAFF, own_token(scene, STAFF))
    assert snapshot(app) == before


@pytest.mark.usefixtures("nothing_written")
def test_other_audiences_tokens_are_forbidden(app, scene):
    """A member token never opens staff or admin routes, and the reverse: 403 AUDIENCE_FORBIDDEN."""
    for audience in AUDIENCES:
        for other in AUDIENCES:
            if other != audience:
                assert_refused_everywhere(app, scene, audience_routes(app, audience), own_token(scene, other),
                                          (403, "AUDIENCE_FORBIDDEN"))


# --- another member's data --------------------------------------------------------------


def test_a_member_token_only_ever_returns_that_members_card_and_entries(app, scene):
    alice, bob = scene["alice"], scene["bob"]
    for caller, other, purchase in ((alice, bob, scene["purchases"]["a"]), (bob, alice, scene["purchases"]["b"])):
        card = caller.get(f"{API_PREFIX}member/card").json
        assert card["member_id"] == caller.member_id
        assert card["points"]["balance"] == purchase["points_earned"] > 0
        assert card["growth"] == purchase["growth_earned"]
        # naming the other member in the query changes nothing: the token decides
        assert caller.get(f"{API_PREFIX}member/card?member_id={other.member_id}").json == card
        for account in ("points", "growth"):
            entries = caller.get(f"{API_PREFIX}member/points/entries?account={account}").json["items"]
            assert [entry["ref"] for entry in entries] == [f"purchase:{purchase['id']}"]
        assert caller.get(f"{API_PREFIX}member/profile").json["card_no"] == card["card_no"]
    assert alice.get(f"{API_PREFIX}member/card").json["card_no"] != bob.get(f"{API_PREFIX}member/card").json["card_no"]


def test_no_member_route_shows_another_members_identifiers(app, scene):
    """Every member GET without a path parameter, for each of the two members: the other one's
    card number, member id and openid never appear (the route list is read from the url_map)."""
    identities = {}
    for name in ("alice", "bob"):
        card = scene[name].get(f"{API_PREFIX}member/card").json
        identities[name] = (card["card_no"], f'"member_id": {card["member_id"]}', f"fake-openid-{name}")
    leaks = []
    for route in audience_routes(app, MEMBER):
        if route.method != "GET" or route.params:
            continue
        for name, other in (("alice", "bob"), ("bob", "alice")):
            reply = scene[name].get(route.url(app))
            assert reply.status_code == 200, (str(route), reply.get_json())
            text = json.dumps(reply.get_json(silent=True), ensure_ascii=False) if reply.is_json else ""
            leaks += [(str(route), name, mark) for mark in identities[other] if mark in text]
    assert leaks == []


def test_a_member_cannot_page_another_members_entries_by_query(app, scene):
    """An unknown query parameter is ignored (webargs' rule for query strings): the token decides."""
    alice, bob = scene["alice"], scene["bob"]
    own = alice.get(f"{API_PREFIX}member/points/entries").json
    assert alice.get(f"{API_PREFIX}member/points/entries?member_id={bob.member_id}").json == own
    assert [entry["ref"] for entry in own["items"]] == [f"purchase:{scene['purchases']['a']['id']}"]


# --- another store's data ---------------------------------------------------------------


def test_staff_of_another_store_cannot_read_a_purchase(app, scene):
    purchase = scene["purchases"]["a"]
    for staff in (scene["clerk_b"], scene["manager_b"]):
        reply = staff.get(f"{API_PREFIX}staff/purchases/{purchase['id']}")
        assert error_of(reply) == (403, "STORE_FORBIDDEN")
        assert "order_no" not in json.dumps(reply.json)
        found = staff.get(f"{API_PREFIX}staff/purchases", query_string={"order_no": purchase["order_no"]})
        assert found.json == {"items": [], "next_cursor": None}  # nor list it, nor find it by its number
    # the purchase as recorded, less the member's standing the reply to the purchase added
    recorded = {key: value for key, value in purchase.items() if key != "member"}
    assert scene["clerk_a"].get(f"{API_PREFIX}staff/purchases/{purchase['id']}").json == recorded


@pytest.mark.parametrize("with_key", [False, True])
def test_a_manager_of_another_store_cannot_refund_and_nothing_is_written(app, scene, with_key):
    purchase = scene["purchases"]["a"]
    before = snapshot(app)
    headers = {"Idempotency-Key": "refund-attempt"} if with_key else {}
    reply = scene["manager_b"].post(f"{API_PREFIX}staff/purchases/{purchase['id']}/refunds", headers=headers,
                                    json={"refund_no": "R-1", "amount_fen": 100_00})
    assert error_of(reply) == (403, "STORE_FORBIDDEN")
    assert snapshot(app) == before  # no refund, no ledger entry, no idempotency record kept
    # the store's own manager can, with the same refund number and key
    reply = scene["manager_a"].post(f"{API_PREFIX}staff/purchases/{purchase['id']}/refunds", headers=headers,
                                    json={"refund_no": "R-1", "amount_fen": 100_00})
    assert reply.status_code == 201, reply.json


def test_a_clerk_cannot_refund_even_in_their_own_store(app, scene):
    before = snapshot(app)
    reply = scene["clerk_a"].post(f"{API_PREFIX}staff/purchases/{scene['purchases']['a']['id']}/refunds",
                                  json={"refund_no": "R-1", "amount_fen": 1_00})
    assert error_of(reply) == (403, "ROLE_FORBIDDEN")
    assert snapshot(app) == before


def test_the_same_order_number_in_another_store_is_another_purchase(app, scene):
    """Purchases are keyed by (store, order number): store B never gets store A's purchase back."""
    mine = scene["purchases"]["a"]
    reply = buy(scene["clerk_b"], scene["alice"].member_id, mine["amount_fen"], order_no=mine["order_no"])
    assert reply.status_code == 201, reply.json
    assert reply.json["id"] != mine["id"]
    assert reply.json["store_id"] == scene["stores"]["B"] != mine["store_id"]


def test_every_staff_route_naming_a_purchase_is_checked_against_the_store(app, scene):
    """The two purchase routes above are all there is; a new one must be added to these tests."""
    named = sorted(str(route) for route in audience_routes(app, STAFF) if "purchase_id" in route.params)
    assert named == ["GET /api/v1/staff/purchases/<int:purchase_id>",
                     "POST /api/v1/staff/purchases/<int:purchase_id>/refunds"]


def test_a_lookup_ticket_is_good_only_for_the_staff_account_and_store_it_was_issued_to(app, world, scene):
    """Another clerk of the same store, staff of another store, and the same account once moved
    to another store are refused it, writing nothing."""
    ticket = lookup_ticket(scene["clerk_a"], scene["alice"].member_id)

    def purchase(staff):
        return scene[staff].post(PURCHASES, json={"lookup_ticket": ticket, "order_no": "T-1", "amount_fen": 10_00})

    before = snapshot(app)
    for other in ("manager_a", "clerk_b", "manager_b"):
        assert error_of(purchase(other)) == (403, "LOOKUP_TICKET_FOREIGN"), other
    assert snapshot(app) == before
    assert purchase("clerk_a").status_code == 201

    with app.app_context():
        db.session.execute(update(Staff).where(Staff.id == world.staff_ids["clerk-a"])
                           .values(store_id=world.stores["B"]))
        db.session.commit()
    before = snapshot(app)
    assert error_of(purchase("clerk_a")) == (403, "LOOKUP_TICKET_FOREIGN")
    assert snapshot(app) == before
