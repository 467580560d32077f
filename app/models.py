"""Every model, imported in one place so Alembic and the tests see the whole schema."""
from app.audit.models import AuditEntry  # noqa: F401
from app.campaigns.models import Campaign, CampaignMember, RecallSetting  # noqa: F401
from app.engagement.models import (  # noqa: F401
    Checkin,
    EngagementSetting,
    MakeupCard,
    PhoneBinding,
    Referral,
    StreakReward,
    Task,
    TaskClaim,
    TaskProgress,
)
from app.idempotency.models import IdempotencyRecord  # noqa: F401
from app.layers.models import LayerCount, MemberLayer, RfmState, Segment  # noqa: F401
from app.mall.benefit_models import BenefitGrant  # noqa: F401
from app.mall.models import (  # noqa: F401
    Coupon,
    CouponEvent,
    CouponTemplate,
    CouponVerification,
    MallCategory,
    MallItem,
    MallOrder,
    StoreCouponOffer,
)
from app.member_row import Member, Tier  # noqa: F401
from app.members.models import TierChange, TierReview  # noqa: F401
from app.messaging.models import Message, MessageRule, OutboxEvent, Reminder, Subscription  # noqa: F401
from app.numbers.models import DailyFact, DailySnapshot, DailyTotal, DistinctSoFar, MonthlyFact, RolledDay  # noqa: F401
from app.operators.models import Operator  # noqa: F401
from app.points.models import LedgerEntry, LotConsumption, PointLot  # noqa: F401
from app.purchases.models import Purchase, Refund  # noqa: F401
from app.stores.models import HomeStore, Staff, Store, StoreVisit  # noqa: F401
from app.tasks.models import JobRun  # noqa: F401
