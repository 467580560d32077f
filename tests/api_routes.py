"""The app's own route table, read so that tests cover endpoints added later, and a
snapshot of every table to prove a refused request wrote nothing."""
import re
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.operators.models import Operator
from app.security import ADMIN, MEMBER, STAFF, issue_token
from tests.api_steps import bought
from tests.helpers import Caller

API_PREFIX = "/api/v1/"
AUDIENCES = ("member", "staff", "admin")
PUBLIC_PREFIX = "/api/v1/auth/"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    method: str
    rule: object  # werkzeug Rule

    @property
    def path(self) -> str:
        return self.rule.rule

    @property
    def spec_path(self) -> str:
        """The path as /openapi.json writes it: {name} for <converter:name>."""
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", self.rule.rule)

    @property
    def params(self) -> set[str]:
        return set(self.rule.arguments)

    def url(self, app, ids: dict | None = None) -> str:
        """The route's URL with each path parameter filled from `ids` (1 for a name not there)."""
        values = {name: (ids or {}).get(name, 1) for name in self.rule.arguments}
        with app.test_request_context():
            return url_for(self.rule.endpoint, **values)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def routes(app, prefix: str = API_PREFIX) -> list[Route]:
    """Every (method, rule) under the prefix, in a stable order."""
    found = [Route(method, rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(prefix)
             for method in sorted(rule.methods - IGNORED_METHODS)]
    return sorted(found, key=str)


def audience_routes(app, audience: str) -> list[Route]:
    return routes(app, f"{API_PREFIX}{audience}/")


# POSTs that change nothing, and logins (their replies carry a token, which is not stored),
# so they need no Idempotency-Key support (see @mutation).
UNKEYED_POSTS = {"POST /api/v1/auth/member/login", "POST /api/v1/auth/staff/login", "POST /api/v1/auth/admin/login",
                   "POST /api/v1/staff/member-lookups", "POST /api/v1/staff/coupon-previews",
                   "POST /api/v1/admin/message-rules/<kind>/preview"}


def writes(route: Route) -> bool:
    return route.method in {"POST", "PUT", "PATCH", "DELETE"}


def snapshot(app) -> dict:
    """Every row of every table (the test databases are small): equal snapshots, nothing written."""
    with app.app_context():
        return {table.name: [tuple(row) for row in db.session.execute(
            select(table).order_by(*table.primary_key.columns))] for table in db.metadata.sorted_tables}


def two_stores(world) -> dict:
    """Members alice and bob with a purchase each (alice's in store A, bob's in store B),
    and a logged-in caller of every kind; "ids" fills path parameters with existing ids."""
    app = world.app
    alice, bob = world.member("alice"), world.member("bob")
    with app.app_context():
        operator_id = db.session.execute(select(Operator.id)).scalar_one()
    scene = {"alice": alice, "bob": bob, "admin": Caller(app, token(app, ADMIN, operator_id), logged_in=True),
             "stores": world.stores, "purchases": {}}
    for username, staff_id in world.staff_ids.items():  # tokens issued directly: a login costs a hash check
        scene[username.replace("-", "_")] = Caller(app, token(app, STAFF, staff_id), logged_in=True)
    scene["subjects"] = {MEMBER: alice.member_id, STAFF: world.staff_ids["manager-a"], ADMIN: operator_id}
    for store, staff, member, amount_fen in (("a", "clerk_a", alice, 300_00), ("b", "clerk_b", bob, 50_00)):
        scene["purchases"][store] = bought(scene[staff], member.member_id, amount_fen, order_no=f"ORDER-{store}")
    scene["ids"] = {"member_id": alice.member_id, "purchase_id": scene["purchases"]["a"]["id"],
                    "store_id": world.stores["A"], "tier_id": world.tiers["普通"]}
    return scene


def token(app, audience: str, subject_id: int) -> str:
    return issue_token(app.config["SECRET_KEY"], audience, subject_id)


def error_of(reply) -> tuple[int, str | None]:
    """(status, error code) of a reply; the code is None when the reply is not our envelope."""
    body = reply.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return reply.status_code, error.get("code") if isinstance(error, dict) else None
