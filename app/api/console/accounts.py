"""Operator accounts (admins only): list, add with a role, change a role, disable and enable.
The same services and input schemas as the admin API."""
from flask import g, render_template, request
from marshmallow import ValidationError

from app.api.account_schemas import OperatorArgs, OperatorRoleArgs
from app.api.console.forms import form_fields, page_args
from app.api.console.pages import flash_and_redirect, page_blueprint
from app.api.pagination import page
from app.operators import service as operators
from app.operators.roles import ROLE_NAMES, ROLES, accounts_only

blp = page_blueprint("console_accounts", __name__)
PAGE_SIZE = 50


@blp.get("/accounts")
@accounts_only
def index(form_errors=None, status=200):
    cursor, _ = page_args()
    found = operators.operators_page(cursor, PAGE_SIZE + 1)
    html = render_template("console/accounts.html", **page(found, PAGE_SIZE), roles=ROLES,
                           form_errors=form_errors or {}, form=request.form)
    return html, status


@blp.post("/accounts")
@accounts_only
def create():
    try:
        args = OperatorArgs().load(form_fields())
    except ValidationError as error:
        return index(form_errors=error.messages, status=422)
    operator = operators.create_operator(**args)
    return flash_and_redirect(f"已添加账号 {operator.username}", ".index")


@blp.post("/accounts/<int:operator_id>/role")
@accounts_only
def change_role(operator_id):
    try:
        args = OperatorRoleArgs().load({"role": request.form.get("role", "")})
    except ValidationError as error:
        return index(form_errors=error.messages, status=422)
    operator = operators.set_operator_role(g.principal, operator_id, args["role"])
    return flash_and_redirect(f"{operator.username} 的角色已改为{ROLE_NAMES[operator.role]}", ".index")


@blp.post("/accounts/<int:operator_id>/disable", defaults={"active": False})
@blp.post("/accounts/<int:operator_id>/enable", defaults={"active": True})
@accounts_only
def set_active(operator_id, active):
    operator = operators.set_operator_active(g.principal, operator_id, active)
    return flash_and_redirect(f"已{'启用' if active else '停用'} {operator.username}", ".index")
