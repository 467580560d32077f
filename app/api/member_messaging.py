"""The mini-program's subscribe-message quota: which templates to ask for, and the answers."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.messaging_schemas import SubscriptionReportArgs, SubscriptionSchema
from app.api.pagination import page_schema, whole
from app.api.principals import require
from app.errors import MessagingError
from app.messaging import subscriptions
from app.security import MEMBER

blp = Blueprint("member_messaging", __name__, url_prefix="/api/v1/member",
                description="Subscribe-message subscriptions (member token)")
blp.before_request(require(MEMBER))


@blp.route("/subscriptions")
@blp.response(200, page_schema(SubscriptionSchema))
def list_subscriptions():
    """The templates our messages use and what is left of each (one per message rule: one page).

    Pass them to wx.requestSubscribeMessage."""
    return whole(subscriptions.templates_for(g.principal.id))


@blp.route("/subscriptions", methods=["POST"])
@blp.errors(MessagingError.SUBSCRIBE_TEMPLATE_UNKNOWN)
@mutation
@blp.arguments(SubscriptionReportArgs)
@blp.response(200, page_schema(SubscriptionSchema))
def report_subscriptions(args):
    """Report a wx.requestSubscribeMessage result: each "accept" of a one-time template is one message.

    Send an Idempotency-Key: a retried report then counts once.
    """
    subscriptions.report(g.principal.id, args["results"])
    return whole(subscriptions.templates_for(g.principal.id))
