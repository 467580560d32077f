"""Operator roles and the one rule of what each may do, for the JSON admin API and the console.

- `analyst`: reads only (GET, HEAD);
- `operator`: reads and writes (configuration, adjustments, campaigns);
- `admin`: everything, and alone the operator accounts (views marked `@accounts_only`).
Views marked `@own_session` (logout, one's own password) are open to every role: ending
one's own session or changing one's own password changes nothing of the programme.
The API (app/api/principals.py) and the console (app/api/console/auth.py) both ask `permitted`.
"""
ADMIN, OPERATOR, ANALYST = "admin", "operator", "analyst"
ROLES = (ADMIN, OPERATOR, ANALYST)
ROLE_NAMES = {ADMIN: "管理员", OPERATOR: "运营", ANALYST: "分析员"}
READS = frozenset({"GET", "HEAD", "OPTIONS"})

_SCOPE = "role_scope"  # the attribute the markers set on a view
_ACCOUNTS, _OWN_SESSION = "accounts", "own_session"


def accounts_only(view):
    """Mark a view that reads or changes operator accounts: admins only."""
    setattr(view, _SCOPE, _ACCOUNTS)
    return view


def own_session(view):
    """Mark a view on the caller's own session (logout, password): every role."""
    setattr(view, _SCOPE, _OWN_SESSION)
    return view


def permitted(role: str, method: str, view) -> bool:
    """May an operator of `role` call `view` (a view function, None for no view) with `method`?"""
    scope = getattr(view, _SCOPE, None)
    if scope == _OWN_SESSION:
        return True
    if scope == _ACCOUNTS:
        return role == ADMIN
    return method in READS or role in (ADMIN, OPERATOR)


def may_write(role: str) -> bool:
    """Whether the role changes anything at all (the console shows no write form otherwise)."""
    return permitted(role, "POST", None)
