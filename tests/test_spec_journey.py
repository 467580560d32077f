"""The member's journey and the cashier's shift driven from /openapi.json alone, as a generated
client or a front end would: each operation found by its operationId, its URL from the path, its
body checked against the documented request schema before it is sent, and every reply checked
against the documented response schema of its status. Only the first operator is made outside
the API (production makes it with `flask create-operator`)."""
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from app.extensions import db
from app.operators.models import Operator
from tests.helpers import PASSWORD, Caller, add_account

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


class DocumentedClient:
    """Calls the API by operationId, holding every request and reply to the document's schemas."""

    def __init__(self, app):
        self.app = app
        self.spec = Caller(app).get("/openapi.json").json
        self.operations = {operation["operationId"]: (method, path, operation)
                           for path, item in self.spec["paths"].items()
                           for method, operation in item.items() if method in HTTP_METHODS}

    def _errors(self, validator, schema: dict, value) -> list[str]:
        return [error.message for error in validator({**schema, "components": self.spec["components"]})
                .iter_errors(value)]

    def call(self, token: str | None, operation_id: str, body: dict | None = None, query: str = "", **path_params):
        method, path, operation = self.operations[operation_id]
        if body is not None:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert self._errors(OAS30WriteValidator, schema, body) == [], (operation_id, body)
        url = path.format(**path_params) + (f"?{query}" if query else "")
        reply = Caller(self.app, token).request(method.upper(), url, json=body)
        assert reply.status_code < 300 and str(reply.status_code) in operation["responses"], (operation_id, reply.json)
        documented = operation["responses"][str(reply.status_code)].get("content", {}).get("application/json")
        if documented is None:
            return None
        assert self._errors(OAS30ReadValidator, documented["schema"], reply.json) == [], (operation_id, reply.json)
        return reply.json

    def example(self, schema_name: str, **fields) -> dict:
        """A body of the schema's documented examples (its writable ones), with `fields` over them."""
        properties = self.spec["components"]["schemas"][schema_name]["properties"]
        return {**{name: prop["example"] for name, prop in properties.items()
                   if "example" in prop and not prop.get("readOnly")}, **fields}


def _login(api: DocumentedClient, operation_id: str, **credentials) -> str:
    return api.call(None, operation_id, credentials)["token"]


def _set_up_the_programme(api: DocumentedClient) -> dict:
    """What operators configure first: tiers, a store and its staff, a coupon, a mall item, a task."""
    admin = _login(api, "auth_admin_login", username="operator", password=PASSWORD)
    for level, name, threshold in ((0, "普通", 0), (1, "银卡", 1000)):
        api.call(admin, "admin_create_tier", {"level": level, "name": name, "growth_threshold": threshold})
    store = api.call(admin, "admin_create_store", api.example("Store", code="SH900", name="静安店"))
    # one manager works the shift (a refund needs one): each account made costs a password hash
    api.call(admin, "admin_create_staff", {"username": "journey-manager", "password": PASSWORD, "name": "店长",
                                           "role": "manager"}, store_id=store["id"])
    template = api.call(admin, "admin_mall_create_template", {
        "name": "满100减20", "kind": "threshold_off", "amount_off_fen": 20_00, "threshold_fen": 100_00,
        "valid_days": 30})
    item = api.call(admin, "admin_mall_create_item", {"name": "满100减20券", "kind": "coupon", "price_points": 100,
                                                      "coupon_template_id": template["id"], "stock": 10})
    task = api.call(admin, "admin_engagement_create_task", {"title": "首次到店消费", "kind": "first_purchase",
                                                             "reward_points": 50})
    return {"store": store, "item": item, "task": task}


def test_the_member_journey_and_the_cashiers_shift_from_the_document_alone(app):
    with app.app_context():
        add_account(Operator, "operator", name="运营", role="admin")
        db.session.commit()
    api = DocumentedClient(app)
    programme = _set_up_the_programme(api)

    # the member opens the mini-program: login, card, the dynamic code
    member = _login(api, "auth_member_login", code="journey-alice")
    card = api.call(member, "member_card")
    assert card["points"]["balance"] == 0
    code = api.call(member, "member_member_code")["code"]

    # the cashier scans the code and records a purchase under the lookup's ticket
    cashier = _login(api, "auth_staff_login", username="journey-manager", password=PASSWORD)
    looked_up = api.call(cashier, "staff_lookup_member", {"code": code})
    purchase = api.call(cashier, "staff_record_purchase", {"lookup_ticket": looked_up["lookup_ticket"],
                                                         "order_no": "J-1001", "amount_fen": 300_00})
    assert purchase["member"]["points_balance"] == 300

    # check-in, then the task the purchase completed
    checked_in = api.call(member, "member_engagement_check_in")
    task = next(task for task in api.call(member, "member_engagement_member_tasks")["items"]
                if task["id"] == programme["task"]["id"])
    assert task["state"] == "claimable"
    claimed = api.call(member, "member_engagement_claim_task", task_id=task["id"])
    assert claimed["points"] == 50

    # an invitation a friend's first login takes
    invitation = api.call(member, "member_engagement_invitation")
    friend = api.call(None, "auth_member_login", {"code": "journey-bob", "invite_code": invitation["code"]})
    assert friend["created"] is True
    assert [invited["state"] for invited in api.call(member, "member_engagement_invitations")["items"]] == ["pending"]

    # the mall: redeem the coupon item for points, then the coupon it issued
    offer = next(offer for offer in api.call(member, "member_mall_list_items")["items"]
                 if offer["id"] == programme["item"]["id"])
    assert offer["redeemable"] is True, offer
    api.call(member, "member_mall_redeem", {"item_id": offer["id"]})
    (coupon,) = api.call(member, "member_mall_list_coupons")["items"]
    coupon = api.call(member, "member_mall_get_coupon", coupon_id=coupon["id"])

    # the cashier verifies the coupon on the next order, then refunds part of the first purchase
    verified = api.call(cashier, "staff_mall_verify", {"code": coupon["code"], "order_no": "J-1002",
                                                     "amount_fen": 150_00})
    assert (verified["coupon_id"], verified["discount_fen"]) == (coupon["id"], 20_00)
    refund = api.call(cashier, "staff_refund_purchase", {"refund_no": "J-R-1001", "amount_fen": 100_00},
                      purchase_id=purchase["id"])
    assert refund["points_reversed"] == 100
    balance = 300 + checked_in["points"] + claimed["points"] - offer["price_points"] - refund["points_reversed"]
    assert api.call(member, "member_card")["points"]["balance"] == balance
