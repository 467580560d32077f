"""Fixtures for the fake WeChat server; load with `pytest_plugins = ["tests.wechat_fixtures"]`."""
import pytest
import requests

from app.wechat.fake_server import start_fake_wechat


class FakeWeChatControl:
    """Drives a running fake WeChat over its /__fake__/ endpoints."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def _send(self, method: str, endpoint: str, **kwargs):
        response = requests.request(method, self.base_url + "__fake__/" + endpoint, timeout=5, **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self):
        self._send("POST", "reset")

    def control(self, **switches):
        """E.g. control(fail={"path": "/sns/jscode2session", "errcode": -1, "times": 2})."""
        self._send("POST", "control", json=switches)

    def calls(self, path: str | None = None) -> list[dict]:
        return [call for call in self._send("GET", "calls") if path is None or call["path"] == path]


@pytest.fixture(scope="session")
def fake_wechat_server():
    server = start_fake_wechat()
    yield server
    server.stop()


@pytest.fixture
def fake_wechat(fake_wechat_server) -> FakeWeChatControl:
    fake = FakeWeChatControl(fake_wechat_server.base_url)
    fake.reset()
    return fake
