"""A pytest plugin proving the error codes the document lists on each operation (`x-error-codes`,
app/api/error_docs.py): it records, for every API request any app of the suite answers with an
error, the operation and the code, and at the end of the session fails the run with the list of
codes answered but not listed on their operation. A run of a few files checks what they ran."""
import re

import pytest
from flask import current_app, request, request_finished

DOCUMENTED_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# (method, path as the document writes it) → the codes answered there
answered: dict[tuple[str, str], set[str]] = {}
_apps: list = []  # the first app that answered an error: the document is read from it
undeclared: list[str] = []


def spec_path(rule: str) -> str:
    """/api/v1/x/<int:x_id> as /openapi.json writes it: /api/v1/x/{x_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _record(sender, response, **extra):
    if (response.status_code < 400 or request.url_rule is None or request.method not in DOCUMENTED_METHODS
            or not request.path.startswith("/api/") or not response.is_json):
        return
    code = ((response.get_json(silent=True) or {}).get("error") or {}).get("code")
    answered.setdefault((request.method.lower(), spec_path(request.url_rule.rule)), set()).add(code)
    if not _apps:
        _apps.append(current_app._get_current_object())


def pytest_configure(config):
    request_finished.connect(_record)


def undeclared_codes(answered: dict, paths: dict) -> list[str]:
    """"METHOD path: CODE" for each code answered on an operation that does not list it."""
    found = []
    for (method, path), codes in sorted(answered.items()):
        operation = paths.get(path, {}).get(method)
        if operation is None:  # not in the document (the bench's bare endpoint): test_openapi's concern
            continue
        unlisted = codes - set(operation["x-error-codes"])
        found += [f"{method.upper()} {path}: {code}" for code in sorted(unlisted, key=str)]
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    if answered:
        undeclared[:] = undeclared_codes(answered, _apps[0].test_client().get("/openapi.json").get_json()["paths"])
    if undeclared:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if undeclared:
        terminalreporter.section("error codes answered but not in the operation's x-error-codes", red=True)
        terminalreporter.line("Declare each beside its view with @blp.errors(...) (app/api/error_docs.py):")
        for line in undeclared:
            terminalreporter.line(f"  {line}")
