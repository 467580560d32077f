"""Commands: `flask demo-data` and `flask serve` (the embedded default, with fake WeChat)."""
import os

import click

from app.demo import LOGINS, MEMBER_CODES, load_demo_data


def register_cli(app) -> None:
    @app.cli.command("demo-data")
    def demo_data():
        """Load the demo tiers, store, staff, operator and members (once)."""
        click.echo("demo data loaded" if load_demo_data() else "demo data already present")

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
  WeChat:       {wechat} (fake)
  Log in as a member:  POST {base}/api/v1/auth/member/login {{"code": <one of {codes}>}}
  Log in as staff / operator:
{staff}
  Then send the token as "Authorization: Bearer <token>".
"""
