"""Console tests without a browser: a Flask test client holding a console session.

    client = ConsoleClient.logged_in(app, OPERATOR)
    reply = client.post("/console/tiers", data={"name": "银卡"})   # the CSRF token is added
    reply = client.post("/console/tiers", data={...}, csrf=False)   # ... or not
"""
import re

from app.extensions import db
from app.operators.models import Operator
from tests.api_routes import snapshot
from tests.helpers import PASSWORD, add_account

CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR_CODE_IN_PAGE = re.compile(r'class="error" data-code="([A-Z_]+)"')


def error_code(reply) -> str | None:
    """The error page's code (console/error.html), None for any other page."""
    found = ERROR_CODE_IN_PAGE.search(reply.get_data(as_text=True))
    return found.group(1) if found else None


class ConsoleClient:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.csrf = None

    @classmethod
    def logged_in(cls, app, role: str, username: str | None = None) -> "ConsoleClient":
        username = username or f"{role}-console"
        with app.app_context():
            add_account(Operator, username, name=f"{role} 测试", role=role)
            db.session.commit()
        client = cls(app)
        reply = client.log_in(username)
        assert reply.status_code == 303, reply.get_data(as_text=True)
        return client

    def log_in(self, username: str, password: str = PASSWORD):
        self.get("/console/login")
        return self.post("/console/login", data={"username": username, "password": password})

    def get(self, path: str, **kwargs):
        reply = self.client.get(path, **kwargs)
        if found := CSRF_IN_PAGE.search(reply.get_data(as_text=True)):
            self.csrf = found.group(1)  # the session's token, as the page's forms carry it
        return reply

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kwargs):
        if csrf and self.csrf is None:
            self.get("/console/login")
        data = {**(data or {}), **({"csrf_token": self.csrf} if csrf else {})}
        reply = self.client.post(path, data=data, **kwargs)
        if path == "/console/login" and reply.status_code == 303:
            self.csrf = None  # a new session, a new token: read it from the next page
            self.get("/console/")
        return reply


def assert_analysts_only_read(app, analyst: ConsoleClient, operator: ConsoleClient, pages: dict[str, str],
                              posts: dict[str, dict]) -> None:
    """The `analyst` sees each of `pages` (path → the id of the write form the `operator` sees
    there) without its form, and each of `posts` (path → form data) is refused 403, writing nothing."""
    for path, form_id in pages.items():
        reply = analyst.get(path)
        assert reply.status_code == 200 and f'id="{form_id}"' not in reply.get_data(as_text=True), path
        assert f'id="{form_id}"' in operator.get(path).get_data(as_text=True), path
    before = snapshot(app)
    for path, data in posts.items():
        reply = analyst.post(path, data=data)
        assert (reply.status_code, error_code(reply)) == (403, "ROLE_FORBIDDEN"), path
    assert snapshot(app) == before
