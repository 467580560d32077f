"""The package graph of app/ has no cycle and nothing below the HTTP layer imports app/api or
Flask's request objects (scripts/check_architecture.py; also runnable by hand:
`python scripts/check_architecture.py`)."""
import subprocess
import sys
from pathlib import Path

from scripts.check_architecture import HTTP_USERS, import_graph, problems

CHECK = Path(__file__).parent.parent / "scripts" / "check_architecture.py"


def test_app_has_no_package_cycle_and_only_its_entry_points_import_the_api():
    assert problems() == []


def test_the_check_runs_as_a_script():
    run = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "members -> " in run.stdout


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """An app/ package of the given files (path under app → source)."""
    app = tmp_path / "app"
    for name, source in {"__init__.py": "from app.high import x\n", **files}.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(source)
        for parent in (app / name).relative_to(tmp_path).parents[:-1]:
            (tmp_path / parent / "__init__.py").touch()
    return app


def test_a_cycle_is_named_with_the_imports_that_make_it_function_level_ones_included(tmp_path):
    app = tree(tmp_path, {
        "high/x.py": "from app.low.y import f\n",
        "low/y.py": "import app.core\n\ndef f():\n    from app.high import x  # a late import is still one\n",
        "core.py": "",
    })
    assert problems(app) == [
        "cycle: high -> low -> high (app/high/x.py:1 imports app.low; app/low/y.py:4 imports app.high)"]


def test_relative_imports_and_from_app_imports_count_and_a_longer_cycle_is_named_whole(tmp_path):
    app = tree(tmp_path, {
        "a/__init__.py": "from . import inner\n",
        "a/inner.py": "from ..b import thing\n",
        "b/thing.py": "from app import clock\n",
        "clock.py": "from app.a.inner import x\n",
    })
    [found] = problems(app)
    assert found.startswith("cycle: a -> b -> clock -> a (app/a/inner.py:1 imports app.b; "
                            "app/b/thing.py:1 imports app.clock; app/clock.py:1 imports app.a)")


def test_a_domain_package_importing_the_api_is_named_the_command_line_may(tmp_path):
    app = tree(tmp_path, {
        "api/views.py": "from app.members import service\n",
        "members/service.py": "def f():\n    from app.api.views import g\n",
        "cli.py": "from app.api.views import schema\n",
    })
    assert "cli" in HTTP_USERS["api"]
    assert problems(app) == [
        "cycle: api -> members -> api (app/api/views.py:1 imports app.members; "
        "app/members/service.py:2 imports app.api)",
        "members imports app.api (HTTP only: domain code never does): app/members/service.py:2",
    ]


def test_the_console_lives_in_the_http_layer_and_domain_code_importing_it_is_named(tmp_path):
    app = tree(tmp_path, {
        "api/console/pages.py": ("from flask import g\nfrom app.api.schemas import Args\n"
                                 "from app.members import service\n"),
        "api/schemas.py": "",
        "members/service.py": "",
        "mall/views.py": "from app.api.console.pages import page\n",
    })
    assert problems(app) == ["mall imports app.api (HTTP only: domain code never does): app/mall/views.py:1"]


def test_flasks_request_objects_below_the_http_layers_are_named_however_they_are_reached(tmp_path):
    app = tree(tmp_path, {
        "api/views.py": "from flask import g, request, session\n",
        "api/console/pages.py": "import flask\n\nflask.session.clear()\n",
        "limits.py": "from flask import current_app, g, request\n",
        "members/service.py": "import flask as web\n\ndef f():\n    return web.request.args\n",
        "tasks/jobs.py": "from flask.globals import session\nfrom flask import current_app\n",
        "clock.py": "from flask import current_app\n",
    })
    assert problems(app) == [
        "limits uses Flask's request objects (HTTP only: domain code never does): app/limits.py:1 g, "
        "app/limits.py:1 request",
        "members uses Flask's request objects (HTTP only: domain code never does): "
        "app/members/service.py:4 flask.request",
        "tasks uses Flask's request objects (HTTP only: domain code never does): app/tasks/jobs.py:1 session",
    ]


def test_the_app_factory_is_outside_the_graph_and_a_layered_tree_passes(tmp_path):
    app = tree(tmp_path, {
        "high/x.py": "from app import create_app\nfrom app.low import y\n",
        "low/y.py": "import json\nfrom app.core import z\n",
        "core.py": "",
    })
    assert problems(app) == []
    assert {node: sorted(targets) for node, targets in import_graph(app).items()} == {
        "core": [], "high": ["low"], "low": ["core"]}
