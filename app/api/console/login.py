"""Logging in (public), and the console's static files."""
from flask import redirect, render_template, request, url_for

from app.accounts import authenticate
from app.api.console import session
from app.api.console.pages import PREFIX, page_blueprint
from app.api.limits import failed_logins, login_rate
from app.errors import AppError, AuthError, RequestError
from app.operators.models import Operator
from app.security import ADMIN

blp = page_blueprint("console", __name__, public=True, template_folder="templates", static_folder="static",
                     static_url_path="/static")


@blp.get("/login")
def login():
    return render_template("console/login.html", next=request.args.get("next", ""))


@blp.post("/login")
@login_rate
def log_in():
    """The operator's username and password, checked and limited as the API's admin login
    (the same per-account failure counter: key "admin:<username>")."""
    username, password = request.form.get("username", "")[:64], request.form.get("password", "")[:128]
    try:
        with failed_logins(f"{ADMIN}:{username}"):
            operator = authenticate(Operator, username, password)
    except AppError as error:
        if error.code not in (AuthError.AUTH_BAD_CREDENTIALS, RequestError.RATE_LIMITED):
            raise
        page = render_template("console/login.html", error=error.message, username=username,
                               next=request.form.get("next", ""))
        return page, error.status
    session.log_in(operator)
    return redirect(_after_login(request.form.get("next", "")), code=303)


def _after_login(next_page: str) -> str:
    """Back to the page that sent the operator here: a console path only, never another site."""
    if next_page.startswith(f"{PREFIX}/") and not next_page.startswith(f"{PREFIX}//") and "\\" not in next_page:
        return next_page
    return url_for("console_home.index")
