"""Browser tests' fixtures (loaded by tests/conftest.py): the app served by a real HTTP server
thread on 127.0.0.1, one headless Chromium (Debian's chromium and chromium-driver) for the
whole run, driven by Selenium.

    def test_something(console):
        page = console(ANALYST)            # a logged-in browser for that role
        page.open("/console/audit")
        page.find("#audit-entries")

`browser` is the same browser not logged in. Each test starts with no cookies; after it, a
screenshot goes to tests/artifacts/<test>.png (git-ignored), and any SEVERE entry of the
browser's console other than a network one (a 4xx a test asked for) fails the test:
a JavaScript error, or something the Content-Security-Policy refused.

Chromedriver and Chromium run in the process group of a watchdog, which kills the group when
pytest is gone, however it went (kill -9 included, which no teardown sees): the watchdog waits
for the end of a pipe only pytest writes to. A parent-death signal (prctl) would not do:
it reaches chromedriver alone, and Chromium is chromedriver's child.
"""
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from app.extensions import db
from app.operators.models import Operator
from tests.helpers import PASSWORD, add_account

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1280,900")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_SECONDS = 10
# stdin's end (pytest closed it, or died): SIGKILL to the watchdog's own group, itself included
WATCHDOG = "import os, signal, sys; sys.stdin.read(); os.killpg(0, signal.SIGKILL)"


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a free port of 127.0.0.1, one thread per request, against the test database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG], stdin=subprocess.PIPE, process_group=0)
    try:
        driver = webdriver.Chrome(options=options,
                                  service=Service(CHROMEDRIVER, popen_kw={"process_group": watchdog.pid}))
        driver.set_page_load_timeout(30)
        yield driver
        driver.quit()
    finally:
        watchdog.stdin.close()  # kills whatever the quit (or a failed start) left behind
        watchdog.wait()


@dataclass
class Page:
    """The browser on the live server, with the few steps the tests need."""

    driver: webdriver.Chrome
    base_url: str

    def open(self, path: str) -> "Page":
        self.driver.get(self.base_url + path)
        return self

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def find(self, css: str):
        return WebDriverWait(self.driver, WAIT_SECONDS).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))

    def all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def fill(self, form_css: str, **values) -> None:
        for name, value in values.items():
            field = self.find(f"{form_css} [name={name}]")
            if field.tag_name == "select":
                self.driver.execute_script("arguments[0].value = arguments[1]", field, value)
            else:
                field.clear()
                field.send_keys(value)

    def submit(self, form_css: str) -> None:
        """Submit the form and wait for the page that answers it."""
        old = self.find("html")
        self.find(form_css).submit()
        WebDriverWait(self.driver, WAIT_SECONDS).until(expected_conditions.staleness_of(old))

    def wait_for(self, condition, message: str = ""):
        """Until the condition holds; an element htmx swapped out while it was read means "not yet"."""
        waiting = WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException])
        return waiting.until(lambda _: condition(), message)

    def script(self, source: str, *args):
        return self.driver.execute_script(source, *args)

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        self.open("/console/login")
        self.fill("form", username=username, password=password)
        self.submit("form")

    def error_code(self) -> str | None:
        """The error page's code (console/error.html), None on any other page."""
        found = self.all(".error-page .error")
        return found[0].get_attribute("data-code") if found else None


@pytest.fixture
def browser(chromium, live_server, request):
    """The session's browser with no cookies; a screenshot and the console's check after the test."""
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.get("about:blank")
    chromium.get_log("browser")  # what an earlier test left
    yield Page(chromium, live_server)
    ARTIFACTS.mkdir(exist_ok=True)
    chromium.save_screenshot(str(ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', request.node.name)}.png"))
    severe = [entry for entry in chromium.get_log("browser")
              if entry["level"] == "SEVERE" and entry.get("source") != "network"]
    assert severe == [], f"the browser's console reported errors: {severe}"


@pytest.fixture
def console(app, browser):
    """`console(role)`: the browser logged in to the console as a new operator of that role."""

    def logged_in(role: str, username: str | None = None) -> Page:
        username = username or f"{role}-browser"
        with app.app_context():
            add_account(Operator, username, name=f"{role} 测试", role=role)
            db.session.commit()
        browser.log_in(username)
        assert browser.path == "/console/", browser.error_code()
        return browser

    return logged_in
