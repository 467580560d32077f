"""Each operation in /openapi.json lists the error codes it can answer (`x-error-codes`) and an
error response per status naming them; the codes of a kind of operation come from the Blueprint
(app/api/error_docs.py). tests/error_replies.py proves the lists against what the suite answers."""
import pytest

from app.api.blueprint import Blueprint
from app.errors import CATALOGUE, AuthError, IdempotencyError, MallError, PointsError, RequestError
from tests.error_replies import spec_path, undeclared_codes
from tests.helpers import Caller
from tests.test_openapi import operations

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture
def spec(app) -> dict:
    return Caller(app).get("/openapi.json").json


def _codes(spec: dict, method: str, path: str) -> list[str]:
    return spec["paths"][path][method]["x-error-codes"]


def test_every_operation_lists_codes_of_the_catalogue_in_its_order(spec):
    order = list(CATALOGUE)
    for path, method, operation in operations(spec):
        codes = operation["x-error-codes"]
        assert codes and set(codes) <= CATALOGUE.keys(), (path, method)
        assert codes == sorted(codes, key=order.index), (path, method)
        assert RequestError.SERVICE_UNAVAILABLE in codes, (path, method)


def test_each_status_of_the_codes_has_a_response_naming_them_with_the_envelope(spec):
    for path, method, operation in operations(spec):
        for code in operation["x-error-codes"]:
            response = operation["responses"][str(CATALOGUE[code][0])]
            assert f"`{code}` {CATALOGUE[code][1]}" in response["description"], (path, method, code)
            assert response["content"]["application/json"]["schema"] == ENVELOPE, (path, method, code)


def test_a_view_declares_its_own_codes_beside_it(spec):
    redeem = _codes(spec, "post", "/api/v1/member/mall/orders")
    assert {MallError.ITEM_OUT_OF_STOCK, PointsError.POINTS_INSUFFICIENT} <= set(redeem)
    assert "`ITEM_OUT_OF_STOCK`" in spec["paths"]["/api/v1/member/mall/orders"]["post"]["responses"]["409"][
        "description"]


def test_the_codes_of_a_kind_of_operation_come_from_the_blueprint(spec):
    login = set(_codes(spec, "post", "/api/v1/auth/member/login"))
    assert RequestError.RATE_LIMITED in login and AuthError.AUTH_REQUIRED not in login  # no token, rate limited
    card = set(_codes(spec, "get", "/api/v1/member/card"))
    assert {AuthError.AUTH_REQUIRED, AuthError.AUTH_INVALID, AuthError.AUDIENCE_FORBIDDEN} <= card
    assert not {IdempotencyError.IDEMPOTENCY_KEY_REUSED, AuthError.ROLE_FORBIDDEN, RequestError.NOT_FOUND} & card
    refund = set(_codes(spec, "post", "/api/v1/staff/purchases/{purchase_id}/refunds"))
    assert {*IdempotencyError, RequestError.NOT_FOUND} <= refund
    assert AuthError.ROLE_FORBIDDEN in _codes(spec, "post", "/api/v1/admin/stores")  # an analyst may not write
    assert AuthError.ROLE_FORBIDDEN not in _codes(spec, "get", "/api/v1/admin/stores")  # every role reads
    assert AuthError.ROLE_FORBIDDEN not in _codes(spec, "post", "/api/v1/admin/logout")  # one's own session


def test_a_declared_code_must_be_an_error_code_member():
    with pytest.raises(TypeError):
        Blueprint.errors("ITEM_OUT_OF_STOCK")


def test_the_plugin_names_a_code_answered_but_not_listed(spec):
    answered = {("get", "/api/v1/member/card"): {AuthError.AUTH_REQUIRED.value, "ITEM_OUT_OF_STOCK"},
                ("get", "/api/v1/bench/member/bare"): {"AUTH_INVALID"}}  # not documented: test_openapi's concern
    assert undeclared_codes(answered, spec["paths"]) == ["GET /api/v1/member/card: ITEM_OUT_OF_STOCK"]
    assert spec_path("/api/v1/staff/purchases/<int:purchase_id>/refunds") == \
        "/api/v1/staff/purchases/{purchase_id}/refunds"
