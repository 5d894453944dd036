"""Demo data for the member club (车享汇): earn rules for every source, tier rules and benefits, eight
rewards on switched-off offers campaigns at the demo's partner merchants and dealers, and members in
every tier — the demo consumer (13800138000) with earned, pending, expiring, spent and reversed points.

Runs after offers (the merchants) and orders (the delivered cars that earned purchase points). Points go
through the ledger's services and rewards through `reward_redeem`, each at its own moment in the past (the
clock is set back), so every balance is what the ledger's replay says and every voucher is a real one.

The demo consumer ends up a gold member (the referral demo, seeded next, adds the points of the referrals
it records): delivered cars, a successful referral still pending, test drives and store visits, daily
check-ins; points from last year expiring at the end of this year; a
car wash redeemed and used at 洁车坊, a 代驾 voucher ready to use, a points + cash interior clean paid in
the sandbox, one that was not paid in time (its points came back), one awaiting payment; a community post
whose points were taken back when moderators removed it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.test.utils import override_settings

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.core import clock
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE
from forecourt.core.errors import DomainError
from forecourt.core.logging import log_context
from forecourt.loyalty.models import (
    TIER_ORDER,
    EarnRule,
    EarnSource,
    Member,
    PointsEntry,
    Reward,
    RewardKind,
    RewardOrder,
    Tier,
    TierBenefit,
    TierRule,
)
from forecourt.loyalty.services import (
    member_for,
    points_earn,
    points_reverse,
    points_state,
    reward_orders_sweep,
    reward_payment_credit,
    reward_redeem,
)
from forecourt.offers.models import Campaign, CouponKind, Merchant, MerchantKind, MerchantStaff, Voucher
from forecourt.offers.services import redemption_record
from forecourt.orders.models import Order, OrderStatus
from forecourt.payments import selectors as payment_selectors
from forecourt.payments.services import payment_sandbox_choose

logger = logging.getLogger(__name__)

IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}

# (source, title, points, fen per point, holding days, daily limit, counts towards tier)
EARN_RULES: list[tuple[str, str, int, int, int, int, bool]] = [
    (EarnSource.PURCHASE, "购车积分（交付后 7 天到账，每 ¥100 再得 1 分）", 2_000, 10_000, 7, 0, True),
    (EarnSource.TEST_DRIVE, "到店试驾", 200, 0, 0, 1, True),
    (EarnSource.CHECK_IN, "门店打卡", 50, 0, 0, 1, True),
    (EarnSource.REFERRAL, "成功推荐好友购车", 3_000, 0, 7, 0, True),
    (EarnSource.COMMUNITY, "社区优质内容", 20, 0, 0, 5, True),
    (EarnSource.DAILY_CHECK_IN, "每日签到", 5, 0, 0, 1, False),
    (EarnSource.OPS_TASK, "完成运营任务", 100, 0, 0, 0, False),
]

# (tier, code, title, description, value)
BENEFITS: list[tuple[str, str, str, str, int]] = [
    (Tier.STANDARD, "birthday_gift", "生日礼遇", "生日当月赠送精美车品一份", 0),
    (Tier.STANDARD, "member_events", "会员活动", "优先报名车主试驾日与线下活动", 0),
    (Tier.SILVER, "points_bonus", "积分加速 10%", "按规则获得的积分额外奖励 10%", 10),
    (Tier.SILVER, "free_car_wash", "免费洗车", "每年 2 次合作门店精致洗车", 2),
    (Tier.SILVER, "birthday_gift", "生日礼遇", "生日当月赠送精美车品一份", 0),
    (Tier.GOLD, "points_bonus", "积分加速 25%", "按规则获得的积分额外奖励 25%", 25),
    (Tier.GOLD, "free_car_wash", "免费洗车", "每年 6 次合作门店精致洗车", 6),
    (Tier.GOLD, "priority_service", "售后优先接待", "预约保养维修优先安排工位", 0),
    (Tier.GOLD, "birthday_gift", "生日礼遇", "生日当月赠送精美车品一份", 0),
    (Tier.BLACK, "points_bonus", "积分加速 50%", "按规则获得的积分额外奖励 50%", 50),
    (Tier.BLACK, "free_car_wash", "免费洗车", "每年 12 次合作门店精致洗车", 12),
    (Tier.BLACK, "priority_service", "售后优先接待", "预约保养维修优先安排工位", 0),
    (Tier.BLACK, "airport_transfer", "机场接送", "每年 2 次上海两场代驾接送", 2),
    (Tier.BLACK, "dedicated_advisor", "专属顾问", "一对一专属客户顾问", 0),
]


@dataclass(frozen=True)
class RewardPlan:
    key: str
    title: str
    title_en: str
    description: str
    kind: str
    points: int
    cash_fen: int
    face_value_fen: int
    merchant_kind: str | None  # None: a gift collected at the dealer
    min_tier: str = Tier.STANDARD
    stock: int = 500
    per_person: int = 2
    valid_days: int = 60
    conditions: str = ""


REWARDS: list[RewardPlan] = [
    RewardPlan(
        "wash",
        "精致洗车一次",
        "A premium car wash",
        "洁车坊门店精致洗车（含轮毂清洁）",
        RewardKind.SERVICE,
        600,
        0,
        68_00,
        MerchantKind.CAR_WASH,
        per_person=4,
        conditions="洁车坊门店使用，需提前预约",
    ),
    RewardPlan(
        "fuel",
        "加油/充电立减 ¥50",
        "¥50 off fuel or charging",
        "洁车坊合作油站与充电桩通用",
        RewardKind.SERVICE,
        1_000,
        0,
        50_00,
        MerchantKind.CAR_WASH,
        stock=300,
    ),
    RewardPlan(
        "driver",
        "代驾服务一次（20 公里内）",
        "A designated driver (up to 20 km)",
        "安驾代驾上海市内服务",
        RewardKind.SERVICE,
        1_200,
        0,
        88_00,
        MerchantKind.DESIGNATED_DRIVER,
        stock=400,
        conditions="上海市内 20 公里以内",
    ),
    RewardPlan(
        "interior",
        "内饰深度清洁",
        "Interior deep clean",
        "座椅、顶棚、地毯深度清洁与除味，约 3 小时",
        RewardKind.SERVICE,
        1_500,
        49_00,
        298_00,
        MerchantKind.CAR_WASH,
        min_tier=Tier.SILVER,
        stock=100,
        per_person=3,
    ),
    RewardPlan(
        "rental",
        "租车立减 ¥200",
        "¥200 off a car rental",
        "安驾租车门店租车立减",
        RewardKind.SERVICE,
        2_000,
        0,
        200_00,
        MerchantKind.DESIGNATED_DRIVER,
        min_tier=Tier.SILVER,
        stock=200,
        per_person=1,
    ),
    RewardPlan(
        "mug",
        "品牌定制保温杯",
        "Branded travel mug",
        "316 不锈钢保温杯，到店领取",
        RewardKind.GOODS,
        2_500,
        0,
        129_00,
        None,
        stock=300,
        per_person=1,
        conditions="凭券到任意经销商门店领取",
    ),
    RewardPlan(
        "airport",
        "机场接送代驾",
        "Airport transfer by designated driver",
        "浦东或虹桥机场单程接送",
        RewardKind.SERVICE,
        3_000,
        99_00,
        380_00,
        MerchantKind.DESIGNATED_DRIVER,
        min_tier=Tier.GOLD,
        stock=80,
        per_person=2,
        conditions="需提前 24 小时预约",
    ),
    RewardPlan(
        "service",
        "免费保养工时券",
        "Free service labour",
        "任一授权经销商保养工时全免（不含配件）",
        RewardKind.SERVICE,
        6_000,
        0,
        600_00,
        None,
        min_tier=Tier.BLACK,
        stock=50,
        per_person=1,
        conditions="凭券到授权经销商使用，需预约",
    ),
]


def _earn_rules() -> dict[str, EarnRule]:
    rules: dict[str, EarnRule] = {}
    for source, title, points, fen_per_point, holding, daily, qualifying in EARN_RULES:
        rules[source] = EarnRule.objects.create(
            source=source,
            title=title,
            points=points,
            fen_per_point=fen_per_point,
            holding_days=holding,
            daily_limit=daily,
            qualifying=qualifying,
        )
    return rules


def _tiers() -> None:
    defaults = settings.LOYALTY_TIER_POINTS
    for tier in TIER_ORDER:
        TierRule.objects.create(tier=tier, min_points=defaults[tier])
    for position, (benefit_tier, code, title, description, value) in enumerate(BENEFITS):
        TierBenefit.objects.create(
            tier=benefit_tier, code=code, title=title, description=description, value=value, position=position
        )


def _merchant(kind: str) -> Merchant:
    found = Merchant.objects.filter(kind=kind, is_active=True).order_by("pk").first()
    if found is not None:
        return found
    # Offers' demo makes these; a database seeded without it gets a merchant of its own.
    name = "洁车坊·徐汇店" if kind == MerchantKind.CAR_WASH else "安驾代驾·上海"
    return Merchant.objects.create(name=name, kind=kind)


def _rewards(today: datetime) -> dict[str, Reward]:
    start, end = today - timedelta(days=60), today + timedelta(days=240)
    made: dict[str, Reward] = {}
    for position, plan in enumerate(REWARDS):
        merchant = _merchant(plan.merchant_kind) if plan.merchant_kind else None
        # Switched off: only the catalogue issues these vouchers (nobody claims them free at /offers/).
        campaign = Campaign.objects.create(
            name=f"积分兑换·{plan.title}",
            name_en=f"Points reward: {plan.title_en}",
            description=plan.description,
            conditions=plan.conditions,
            kind=CouponKind.MERCHANT_SERVICE if merchant else CouponKind.GIFT,
            gift_description="" if merchant else plan.title,
            gift_description_en="" if merchant else plan.title_en,
            merchant=merchant,
            face_value_fen=plan.face_value_fen,
            budget_count=plan.stock,
            per_person_limit=plan.per_person,
            valid_days=plan.valid_days,
            is_active=False,
            starts_at=start,
            ends_at=end,
            created_at=start,
            updated_at=start,
        )
        made[plan.key] = Reward.objects.create(
            title=plan.title,
            description=plan.description,
            kind=plan.kind,
            points_cost=plan.points,
            cash_fen=plan.cash_fen,
            campaign=campaign,
            min_tier=plan.min_tier,
            position=position,
        )
    return made


def _earn(
    member: Member, rule: EarnRule, ref: str, at: datetime, *, points: int | None = None
) -> PointsEntry:
    """An earning by its rule, keyed as the live earning would be (`earn:<source>:<ref>`)."""
    with clock.frozen_at(at):
        return points_earn(
            member=member,
            points=points or rule.points,
            reason=rule.source,
            idempotency_key=f"earn:{rule.source}:{ref}",
            note=rule.title,
            source_ref=ref[:64],
            rule=rule,
            holding_days=rule.holding_days,
            qualifying=rule.qualifying,
            at=at,
        )


def _purchase_points(rule: EarnRule, order: Order) -> int:
    return rule.points + (order.total_fen // rule.fen_per_point if rule.fen_per_point else 0)


def _redeem(member: Member, reward: Reward, at: datetime, key: str) -> RewardOrder | None:
    with clock.frozen_at(at):
        try:
            return reward_redeem(
                member=member, reward=reward, idempotency_key=key, actor=member.user, provider="sandbox"
            )
        except DomainError as error:
            logger.warning("demo redemption refused", extra=log_context(code=error.code, key=key))
            return None


def _pay(order: RewardOrder, at: datetime) -> None:
    """Pay the cash part in the sandbox at `at`, and credit it as the subscriber would."""
    intent = payment_selectors.payment_intent_get(public_id=order.payment_intent)
    with clock.frozen_at(at):
        with override_settings(TASKS=IMMEDIATE_TASKS):
            payment_sandbox_choose(intent=intent, choice="pay")
        intent.refresh_from_db()
        reward_payment_credit(
            intent=intent.public_id,
            reference=order.public_id,
            amount_fen=intent.amount_fen,
            currency=intent.currency,
            paid_at=intent.paid_at,
        )


def _write_off_at_merchant(order: RewardOrder, at: datetime) -> None:
    voucher = Voucher.objects.select_related("campaign__merchant").filter(code=order.voucher_code).first()
    merchant = voucher.campaign.merchant if voucher else None
    if voucher is None or merchant is None:
        return
    staff = MerchantStaff.objects.filter(merchant=merchant).select_related("user").first()
    with clock.frozen_at(at):
        try:
            redemption_record(
                voucher=voucher,
                staff=staff.user if staff else None,
                merchant=merchant,
                idempotency_key=f"demo-{voucher.code}",
            )
        except DomainError as error:
            logger.warning("demo write-off refused", extra=log_context(code=error.code))


def _delivered_orders(buyer: User) -> list[Order]:
    return list(Order.objects.filter(buyer=buyer, status=OrderStatus.DELIVERED).order_by("delivered_at"))


def _demo_consumer(
    consumer: User, rules: dict[str, EarnRule], rewards: dict[str, Reward], today: datetime
) -> None:
    member = member_for(consumer)
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    last_year = datetime(today.year - 1, 1, 1, tzinfo=clock.SHANGHAI)
    # Last year's points: still spendable, and expiring at the end of this year (spent first).
    for index, day in enumerate((95, 180, 300)):
        _earn(
            member,
            rules[EarnSource.REFERRAL],
            f"demo-last-year-referral-{index}",
            last_year + timedelta(days=day),
        )
    _earn(member, rules[EarnSource.TEST_DRIVE], "demo-last-year-test-drive", last_year + timedelta(days=80))
    _earn(member, rules[EarnSource.CHECK_IN], "demo-last-year-visit", last_year + timedelta(days=150))
    for index, day in enumerate((200, 230, 260)):
        _earn(
            member,
            rules[EarnSource.COMMUNITY],
            f"demo-last-year-post-{index}",
            last_year + timedelta(days=day),
        )
    # This year: the delivered car (pending for a week after delivery), test drives and visits.
    delivered = _delivered_orders(consumer)
    for order in delivered:
        _earn(
            member,
            rules[EarnSource.PURCHASE],
            order.number,
            order.delivered_at or ago(40),
            points=_purchase_points(rules[EarnSource.PURCHASE], order),
        )
    if not delivered:
        _earn(member, rules[EarnSource.PURCHASE], "demo-purchase", ago(40), points=4_500)
    _earn(member, rules[EarnSource.TEST_DRIVE], "demo-test-drive", ago(70))
    _earn(member, rules[EarnSource.CHECK_IN], "demo-visit-1", ago(72))
    _earn(member, rules[EarnSource.CHECK_IN], "demo-visit-2", ago(35))
    # A friend bought a car on the member's recommendation three days ago: still pending.
    _earn(member, rules[EarnSource.REFERRAL], "demo-referral", ago(3))
    for day in range(1, 8):
        _earn(member, rules[EarnSource.DAILY_CHECK_IN], f"demo-daily-{day}", ago(day) + timedelta(hours=1))
    _earn(member, rules[EarnSource.OPS_TASK], "demo-task-profile", ago(50))
    # A post the moderators removed: its points were taken back.
    removed = _earn(member, rules[EarnSource.COMMUNITY], "demo-post-removed", ago(30))
    with clock.frozen_at(ago(29)):
        points_reverse(entry=removed, reason="community_removed", idempotency_key=f"reverse:{removed.pk}")
    _demo_consumer_rewards(member, rewards, today)


def _demo_consumer_rewards(member: Member, rewards: dict[str, Reward], today: datetime) -> None:
    """Spent: a car wash used at 洁车坊, a 代驾 voucher ready, an interior clean paid in the sandbox."""
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    washed = _redeem(member, rewards["wash"], ago(20), "demo-wash")
    if washed is not None:
        _write_off_at_merchant(washed, ago(18))
    _redeem(member, rewards["driver"], ago(5), "demo-driver")
    paid = _redeem(member, rewards["interior"], ago(12), "demo-interior")
    if paid is not None and paid.payment_intent:
        _pay(paid, ago(12) + timedelta(minutes=3))
    # One not paid in time (its points came back), one awaiting payment now.
    lapsed = _redeem(member, rewards["interior"], ago(8), "demo-interior-unpaid")
    if lapsed is not None:
        with clock.frozen_at(ago(8) + timedelta(minutes=settings.LOYALTY_PAYMENT_MINUTES + 1)):
            reward_orders_sweep()
    _redeem(member, rewards["airport"], today - timedelta(minutes=4), "demo-airport")


# How many other members reach each tier, and roughly how many qualifying points they hold.
TIER_PLAN: list[tuple[str, int, int]] = [
    (Tier.BLACK, 1, 24_000),
    (Tier.GOLD, 2, 10_000),
    (Tier.SILVER, 4, 3_000),
    (Tier.STANDARD, 8, 400),
]


def _other_members(
    rng: random.Random,
    rules: dict[str, EarnRule],
    rewards: dict[str, Reward],
    today: datetime,
    consumer: User,
) -> None:
    people = list(
        User.objects.filter(role=Role.CONSUMER, is_active=True).exclude(pk=consumer.pk).order_by("pk")
    )
    rng.shuffle(people)
    # Owners of a delivered car first: their purchase points are what lifts the higher tiers.
    people.sort(
        key=lambda person: not Order.objects.filter(buyer=person, status=OrderStatus.DELIVERED).exists()
    )
    cursor = 0
    for _tier, count, target in TIER_PLAN:
        for _index in range(count):
            if cursor >= len(people):
                return
            person = people[cursor]
            cursor += 1
            _member_with_points(rng, person, rules, today, target)
    # A few redemptions across the catalogue by the members who can afford them.
    for person in people[:cursor]:
        member = member_for(person)
        for key in rng.sample(["wash", "fuel", "driver", "mug"], k=rng.randint(0, 2)):
            at = today - timedelta(days=rng.uniform(1, 9))
            if points_state(member, at).spendable < rewards[key].points_cost:
                continue
            order = _redeem(member, rewards[key], at, f"demo-{person.pk}-{key}")
            if order is not None and key in ("wash", "fuel") and rng.random() < 0.5:
                _write_off_at_merchant(order, at + timedelta(days=rng.uniform(0.2, 2)))


def _member_with_points(
    rng: random.Random, person: User, rules: dict[str, EarnRule], today: datetime, target: int
) -> None:
    member = member_for(person)
    earned = 0
    for order in _delivered_orders(person):
        if order.delivered_at and order.delivered_at > today - timedelta(days=300):
            rule = rules[EarnSource.PURCHASE]
            earned += _earn(
                member, rule, order.number, order.delivered_at, points=_purchase_points(rule, order)
            ).points
    serial = 0
    while earned < target:
        serial += 1
        source = rng.choice(
            [EarnSource.REFERRAL, EarnSource.TEST_DRIVE, EarnSource.CHECK_IN, EarnSource.COMMUNITY]
            if target - earned >= 3_000
            else [EarnSource.TEST_DRIVE, EarnSource.CHECK_IN, EarnSource.COMMUNITY]
        )
        at = today - timedelta(days=rng.uniform(10, 300))
        earned += _earn(member, rules[source], f"demo-{person.pk}-{serial}", at).points
    for day in range(rng.randint(0, 5)):
        _earn(
            member,
            rules[EarnSource.DAILY_CHECK_IN],
            f"demo-{person.pk}-daily-{day}",
            today - timedelta(days=day + 1),
        )


def _demo_consumer_user() -> User:
    return consumer_get_or_create_by_phone(phone=DEMO_CONSUMER_PHONE, display_name="张伟")


def seed(*, rng: random.Random) -> None:
    """Earn rules, tiers and benefits, the rewards catalogue, and members in every tier."""
    if EarnRule.objects.exists() or Reward.objects.exists():
        return
    today = clock.now()
    rules = _earn_rules()
    _tiers()
    rewards = _rewards(today)
    consumer = _demo_consumer_user()
    _demo_consumer(consumer, rules, rewards, today)
    _other_members(rng, rules, rewards, today, consumer)


__all__: list[Any] = ["seed"]
