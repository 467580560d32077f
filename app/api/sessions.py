"""Ending sessions, one blueprint per audience under its own prefix (and its own token):
`POST /logout` for everyone, `POST /password` for staff and operators.

Both end every token of the account, on every device it logged in on, not only the one
sent: tokens carry the account's token version and these bump it (app/accounts.py).
"""
from flask import g

from app import accounts
from app.api.account_schemas import PasswordChangeArgs
from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.limits import failed_logins, login_rate
from app.api.principals import require
from app.errors import AuthError
from app.operators.roles import own_session
from app.security import ADMIN, MEMBER, STAFF


def _session_blueprint(audience: str, with_password: bool) -> Blueprint:
    blp = Blueprint(f"{audience}_session", __name__, url_prefix=f"/api/v1/{audience}",
                    description=f"Logout{' and password change' if with_password else ''} ({audience} token)")
    blp.before_request(require(audience))

    @blp.route("/logout", methods=["POST"])
    @own_session
    @mutation
    @blp.response(204)
    def logout():
        """Log out everywhere: ends every token of this account (every device), not only this one."""
        accounts.end_tokens(g.principal)

    if with_password:
        @blp.route("/password", methods=["POST"])
        @blp.errors(AuthError.CURRENT_PASSWORD_WRONG)
        @own_session
        @login_rate  # counts with the logins: a wrong current password is a guess like a failed login
        @mutation
        @blp.arguments(PasswordChangeArgs)
        @blp.response(204)
        def change_password(args):
            """Change the password, given the current one. Ends every token of this account, this one
            too: log in again with the new password."""
            # a wrong current password is a guess at the account's password: counted with its failed logins
            with failed_logins(f"{audience}:{g.principal.username}"):
                accounts.change_password(g.principal, args["current_password"], args["new_password"], actor=g.scope)

    return blp


blueprints = [_session_blueprint(MEMBER, with_password=False), _session_blueprint(STAFF, with_password=True),
              _session_blueprint(ADMIN, with_password=True)]
