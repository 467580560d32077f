"""Baseline endpoints for the benchmarks in bench/, registered only with BENCH_ENDPOINTS=1.

Each does the least a real endpoint of its audience can do, through the same stack
(token check, flask-smorest reply schema), so a benchmark can report its endpoint as a
ratio of the baseline measured in the same run.
"""
from flask import g
from marshmallow import Schema, fields

from app.api.blueprint import Blueprint
from app.api.principals import require
from app.security import MEMBER

blp = Blueprint("bench", __name__, url_prefix="/api/v1/bench",
                description="Benchmark baselines (BENCH_ENDPOINTS=1 only)")
blp.before_request(require(MEMBER))


class BareMemberSchema(Schema):
    member_id = fields.Integer(attribute="id")
    points_balance = fields.Integer()


@blp.route("/member/bare")
@blp.response(200, BareMemberSchema)
def bare_member():
    """The member row by primary key (the token check's one SELECT) and nothing more."""
    return g.principal
