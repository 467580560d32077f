"""Commands: `flask demo-data` and `flask serve` (the embedded default, with fake WeChat),
and `flask create-operator` (the first operator of a production deployment)."""
import os

import click
from marshmallow import ValidationError

from app.api.account_schemas import OperatorArgs
from app.demo import LOGINS, MEMBER_CODES, load_demo_data
from app.errors import AppError
from app.extensions import db
from app.operators import service as operators
from app.operators.roles import ADMIN


def register_cli(app) -> None:
    @app.cli.command("demo-data")
    def demo_data():
        """Load the demo tiers, store, staff, operator and members (once). Not in production:
        its accounts have published passwords."""
        if app.config["PRODUCTION"]:
            raise click.ClickException("demo-data is refused in production: its accounts have published passwords")
        click.echo("demo data loaded" if load_demo_data() else "demo data already present")

    @app.cli.command("create-operator")
    @click.option("--username", envvar="OPERATOR_USERNAME", prompt=True, show_envvar=True)
    @click.option("--name", envvar="OPERATOR_NAME", prompt=True, show_envvar=True)
    @click.option("--password", envvar="OPERATOR_PASSWORD", prompt=True, hide_input=True, confirmation_prompt=True,
                  show_envvar=True, help="asked for (hidden, twice) unless in the environment")
    def create_operator(username, name, password):
        """Create an admin operator account, e.g. the first one: asked for, or from OPERATOR_USERNAME,
        OPERATOR_NAME and OPERATOR_PASSWORD. There is no default password; the API's rules apply."""
        try:
            operator = operators.create_operator(**OperatorArgs().load(
                {"username": username, "name": name, "password": password, "role": ADMIN}))
        except ValidationError as error:
            raise click.ClickException(f"refused: {error.messages}") from None
        except AppError as error:
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(f"operator {operator.username} created (id {operator.id}); log in at /api/v1/auth/admin/login")

    @app.cli.command("serve")
    @click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)), show_default="PORT or 5000")
    def serve(port):
        """Serve the API on 127.0.0.1, with the built-in fake WeChat unless one is configured."""
        from werkzeug.serving import run_simple

        if not os.environ.get("WECHAT_API_BASE"):
            from app.wechat.fake_server import start_fake_wechat

            app.config["WECHAT_API_BASE"] = start_fake_wechat().base_url
        if not app.config["REDIS_URL"]:  # no rq workers: run the scheduled jobs in this process
            from app.tasks.inprocess import start_inprocess_scheduler

            start_inprocess_scheduler(app)
        base = f"http://127.0.0.1:{port}"
        click.echo(_welcome(base, app.config["WECHAT_API_BASE"]))
        run_simple("127.0.0.1", port, app, threaded=True)


def _welcome(base: str, wechat: str) -> str:
    staff = "\n".join(f"    {role:8} POST {base}/api/v1/auth/{'admin' if role == 'operator' else 'staff'}/login "
                      f"{{\"username\": \"{user}\", \"password\": \"{password}\"}}"
                      for role, (user, password) in LOGINS.items())
    codes = ", ".join(f'"{code}"' for code in MEMBER_CODES)
    return f"""
membermall is running at {base}
  API docs:     {base}/docs   (OpenAPI: {base}/openapi.json)
  Console:      {base}/console/   (username "{LOGINS['operator'][0]}", password "{LOGINS['operator'][1]}")
  WeChat:       {wechat} (fake)
  Log in as a member:  POST {base}/api/v1/auth/member/login {{"code": <one of {codes}>}}
  Log in as staff / operator:
{staff}
  Then send the token as "Authorization: Bearer <token>".
"""
