"""WeChat against the fake WeChat server over real HTTP; nothing is mocked."""
import json
import socket
import time
import uuid

import pytest
import redis
from flask import Flask

from app.errors import AppError
from app.wechat import WeChat, WxSession, get_wechat, init_app
from tests.helpers import REDIS_URL

TOKEN = "/cgi-bin/token"
LOGIN = "/sns/jscode2session"
PHONE = "/wxa/business/getuserphonenumber"


@pytest.fixture
def appid():
    # unique per test, so tokens kept in Redis never leak between tests or runs
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def wechat(fake_wechat, appid):
    return WeChat(appid, "secret", api_base=fake_wechat.base_url, timeout=2)


@pytest.fixture
def redis_client(appid):
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    for key in client.scan_iter(f"wechatpy:{appid}*"):
        client.delete(key)
    client.close()


def error_of(call) -> AppError:
    with pytest.raises(AppError) as caught:
        call()
    return caught.value


def test_login_code_gives_the_same_identity_every_time(wechat, fake_wechat):
    session = wechat.code_to_session("abc")

    assert session == WxSession("fake-openid-abc", "fake-unionid-abc", session.session_key)
    assert session.session_key
    assert wechat.code_to_session("abc") == session
    assert [call["params"]["js_code"] for call in fake_wechat.calls(LOGIN)] == ["abc", "abc"]


@pytest.mark.parametrize("code", ["invalid-1", "used-1"])
def test_a_bad_login_code_is_invalid(wechat, code):
    assert error_of(lambda: wechat.code_to_session(code)).code == "WECHAT_CODE_INVALID"


def test_phone_number(wechat, fake_wechat):
    assert wechat.phone_number("phone-13800138000") == "13800138000"
    derived = wechat.phone_number("any-code")
    assert len(derived) == 11 and derived.startswith("1") and derived.isdigit()
    assert wechat.phone_number("any-code") == derived
    assert fake_wechat.calls(PHONE)[0]["json"] == {"code": "phone-13800138000"}


def test_a_bad_phone_code_is_invalid(wechat):
    assert error_of(lambda: wechat.phone_number("invalid-x")).code == "WECHAT_CODE_INVALID"


def test_an_expired_token_is_refreshed_once(wechat, fake_wechat):
    wechat.phone_number("phone-13800138000")
    fake_wechat.control(expire_tokens=True)

    assert wechat.phone_number("phone-13900139000") == "13900139000"
    assert len(fake_wechat.calls(TOKEN)) == 2
    assert len(fake_wechat.calls(PHONE)) == 3


def test_a_token_rejected_twice_is_unavailable_without_more_retries(wechat, fake_wechat):
    fake_wechat.control(fail={"path": PHONE, "errcode": 40001, "times": 5})

    assert error_of(lambda: wechat.phone_number("phone-13800138000")).code == "WECHAT_UNAVAILABLE"
    assert len(fake_wechat.calls(PHONE)) == 2
    assert len(fake_wechat.calls(TOKEN)) == 2


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_busy_or_limited_wechat_is_unavailable(wechat, fake_wechat, errcode):
    fake_wechat.control(fail={"path": LOGIN, "errcode": errcode})

    assert error_of(lambda: wechat.code_to_session("abc")).code == "WECHAT_UNAVAILABLE"
    assert len(fake_wechat.calls(LOGIN)) == 1


def test_another_errcode_is_a_wechat_error_with_details(wechat, fake_wechat):
    fake_wechat.control(fail={"path": LOGIN, "errcode": 40125, "errmsg": "invalid appsecret"})

    error = error_of(lambda: wechat.code_to_session("abc"))
    assert error.code == "WECHAT_ERROR"
    assert error.details == {"errcode": 40125, "errmsg": "invalid appsecret"}


def test_a_failed_token_fetch_is_a_wechat_error(wechat, fake_wechat):
    fake_wechat.control(fail={"path": TOKEN, "errcode": 40013, "errmsg": "invalid appid"})

    assert error_of(lambda: wechat.phone_number("x")).details == {"errcode": 40013, "errmsg": "invalid appid"}


@pytest.mark.parametrize("path", [LOGIN, TOKEN])
def test_a_slow_answer_times_out_as_unavailable(fake_wechat, appid, path):
    wechat = WeChat(appid, "secret", api_base=fake_wechat.base_url, timeout=0.3)
    fake_wechat.control(delay={"path": path, "seconds": 1})

    started = time.monotonic()
    assert error_of(lambda: wechat.code_to_session("abc")).code == "WECHAT_UNAVAILABLE"
    assert time.monotonic() - started < 0.9


def test_an_http_error_status_is_unavailable(fake_wechat, appid):
    wechat = WeChat(appid, "secret", api_base=fake_wechat.base_url + "nowhere/", timeout=1)

    assert error_of(lambda: wechat.code_to_session("abc")).code == "WECHAT_UNAVAILABLE"


def test_an_unreachable_server_is_unavailable(appid):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    wechat = WeChat(appid, "secret", api_base=f"http://127.0.0.1:{port}/", timeout=1)

    assert error_of(lambda: wechat.code_to_session("abc")).code == "WECHAT_UNAVAILABLE"


def test_clients_sharing_redis_fetch_one_token(fake_wechat, appid, redis_client):
    first = WeChat(appid, "secret", api_base=fake_wechat.base_url, timeout=2, redis=redis_client)
    second = WeChat(appid, "secret", api_base=fake_wechat.base_url, timeout=2, redis=redis_client)

    first.phone_number("a")
    second.phone_number("b")

    assert len(fake_wechat.calls(TOKEN)) == 1
    key = f"wechatpy:{appid}_access_token"
    assert {call["params"]["access_token"] for call in fake_wechat.calls(PHONE)} == {json.loads(redis_client.get(key))}
    assert redis_client.ttl(key) > 0


def test_the_app_builds_its_client_on_first_use(fake_wechat, appid):
    app = Flask(__name__)
    app.config.update(WECHAT_APPID=appid, WECHAT_SECRET="secret")
    init_app(app)
    app.config["WECHAT_API_BASE"] = fake_wechat.base_url  # as a CLI may, after create_app()

    with app.app_context():
        assert get_wechat() is get_wechat()
        assert get_wechat().code_to_session("abc").openid == "fake-openid-abc"


def test_mini_program_code_is_a_png_of_the_scene(wechat, fake_wechat):
    png = wechat.mini_program_code("s=42", page="pages/store/index")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (call,) = [c for c in fake_wechat.calls() if c["path"] == "/wxa/getwxacodeunlimit"]
    assert call["json"]["scene"] == "s=42" and call["json"]["page"] == "pages/store/index"


def test_a_scene_too_long_is_a_wechat_error(wechat):
    error = error_of(lambda: wechat.mini_program_code("x" * 33))
    assert error.code == "WECHAT_ERROR" and error.details["errcode"] == 40169
