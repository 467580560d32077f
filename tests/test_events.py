"""Domain events: each app subscribes the one list of app/subscribers.py, and that list
matches the events the code emits (none emitted unheard, none subscribed never emitted)."""
import ast
from pathlib import Path

from flask import Flask

from app import events
from app.subscribers import SUBSCRIBERS

APP_DIR = Path(__file__).resolve().parent.parent / "app"


def emitted_events() -> dict[str, list[str]]:
    """Every emit(...) in app/: event → where ("path:line"); each names its event as a literal."""
    found: dict[str, list[str]] = {}
    for path in sorted(APP_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "emit":
                where = f"{path.relative_to(APP_DIR.parent)}:{node.lineno}"
                assert node.args and isinstance(node.args[0], ast.Constant), f"{where}: emit() names its event"
                found.setdefault(node.args[0].value, []).append(where)
    return found


def test_every_emitted_event_is_heard_and_every_subscription_is_emitted():
    subscribed = {event for event, _ in SUBSCRIBERS}
    emitted = emitted_events()
    assert {event: where for event, where in emitted.items() if event not in subscribed} == {}
    assert subscribed - set(emitted) == set()


def test_the_app_subscribes_the_list_each_event_in_its_order(app):
    expected: dict[str, list] = {}
    for event, handler in SUBSCRIBERS:
        expected.setdefault(event, []).append(handler)
    assert app.extensions["events"] == expected


def test_subscribers_belong_to_their_app_not_to_the_process(app):
    heard = []
    other = Flask("other")
    events.init_app(other, [("member.phone_bound", lambda member: heard.append(member))])
    with other.app_context():
        events.emit("member.phone_bound", member="m")
        events.emit("purchase.recorded", purchase="p")  # nobody in this app hears it
    assert heard == ["m"]
    assert "purchase.recorded" in app.extensions["events"]  # the real app still has its own
