"""`make run`'s demo data goes through the real services, so it obeys their rules (the lock
order included) and leaves ledgers that balance."""
from sqlalchemy import select

from app.extensions import db
from app.member_row import Member
from tests.helpers import assert_ledger_consistent


def test_the_demo_data_loads_once_through_the_services(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert (first.exit_code, first.output.strip()) == (0, "demo data loaded"), first.output
    again = runner.invoke(args=["demo-data"])
    assert again.output.strip() == "demo data already present"
    with app.app_context():
        members = db.session.execute(select(Member).order_by(Member.id)).scalars().all()
        assert [member.nickname for member in members] == ["Alice", "Bob"]
        for member in members:
            assert assert_ledger_consistent(member.id)["balance"] > 0
