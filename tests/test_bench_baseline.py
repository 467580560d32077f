"""The benchmarks' baseline endpoint lives in bench/: only the app the bench harness serves has it."""
from bench.baseline import create_app_with_baseline
from tests.helpers import REDIS_URL, Caller, another_app

BARE = "/api/v1/bench/member/bare"


def test_the_app_has_no_baseline_endpoint_and_the_bench_app_serves_it(app, world):
    alice = world.member("alice")
    assert Caller(app, alice.token).get(BARE).status_code == 404
    assert not any(key.startswith("BENCH") for key in app.config)
    with another_app(app, REDIS_URL, factory=create_app_with_baseline) as bench_app:
        reply = Caller(bench_app, alice.token).get(BARE)
        assert (reply.status_code, reply.json) == (200, {"member_id": alice.member_id, "points_balance": 0})
        assert Caller(bench_app, "forged").get(BARE).status_code == 401
