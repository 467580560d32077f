"""Security headers: every reply forbids type sniffing; every API reply (tokens, personal
data) forbids caching, unless its view set a policy of its own."""
from tests.api_routes import API_PREFIX, routes, two_stores
from tests.helpers import Caller

OWN_POLICY = {"GET /api/v1/member/invitation/code.png": "private, max-age=86400"}  # the same image for a day


def test_every_api_reply_is_nosniff_and_no_store(app, world):
    scene = two_stores(world)
    callers = {"member": scene["alice"], "staff": scene["manager_a"], "admin": scene["admin"]}
    checked = []
    for route in routes(app):
        caller = callers.get(route.path.removeprefix(API_PREFIX).split("/")[0], Caller(app))
        reply = caller.request(route.method, route.url(app, scene["ids"]), json={})
        checked.append((str(route), reply.headers.get("X-Content-Type-Options"), reply.headers.get("Cache-Control")))
    expected = [(route, "nosniff", OWN_POLICY.get(route, "no-store")) for route, _, _ in checked]
    assert checked == expected


def test_replies_outside_the_api_are_nosniff(app):
    for path in ("/healthz", "/openapi.json", "/docs", "/nothing-here", "/api/v1/nothing-here"):
        assert Caller(app).get(path).headers.get("X-Content-Type-Options") == "nosniff", path


def test_a_login_reply_which_carries_a_token_is_no_store(app, world):
    reply = Caller(app).post(f"{API_PREFIX}auth/member/login", json={"code": "alice"})
    assert reply.status_code == 200 and "token" in reply.json
    assert reply.headers["Cache-Control"] == "no-store"
