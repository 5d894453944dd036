"""Demo data for offers: running campaigns of every kind, partner merchants with counter logins, price
floors, and vouchers in every state for the demo consumer (13800138000) and many others.

Runs after orders. Vouchers are claimed through `campaign_claim` (so budgets and tallies add up), paid
through the sandbox gateway, and written off through writeoff's `redemption_record` at the demo dealers
and merchants; each step happens at its own moment in the past (the clock is set back).

- 双11 ¥5,000 off the demo model in four cities; 9.5折 capped at ¥8,000; a store-visit gift (car-care kit);
  partner services (car wash, 代驾, fuel/charging, rental) at two merchants; a paid "¥99 抵 ¥2,000";
  one exclusive campaign and two that stack with each other.
- Merchant counter logins: `demo-merchant` (洁车坊, car wash and fuel) and `demo-merchant-2`
  (安驾代驾, 代驾 and rental), password `forecourt-demo`.
"""

from __future__ import annotations

import importlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.test.utils import override_settings

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.catalog.models import Trim, VehicleModel
from forecourt.catalog.selectors import trim_snapshot_for
from forecourt.core import clock
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE
from forecourt.core.errors import DomainError
from forecourt.core.events import deliver_event, subscribers_for
from forecourt.core.logging import log_context
from forecourt.core.models import Event
from forecourt.dealers.models import City, Dealer
from forecourt.offers.models import (
    Campaign,
    CouponKind,
    Merchant,
    MerchantKind,
    MerchantStaff,
    OnCancel,
    PriceFloor,
    Voucher,
)
from forecourt.offers.services import campaign_claim, offers_sweep, voucher_pay_start
from forecourt.offers.services.paid import PURPOSE
from forecourt.payments import selectors as payment_selectors
from forecourt.payments.services import payment_sandbox_choose

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "forecourt-demo"
DEMO_LOGINS: list[tuple[str, str, str]] = [
    (
        "Partner merchant (car wash, fuel)",
        "demo-merchant",
        f"password {DEMO_PASSWORD} (/workspace/vouchers/)",
    ),
    (
        "Partner merchant (代驾, rental)",
        "demo-merchant-2",
        f"password {DEMO_PASSWORD} (/workspace/vouchers/)",
    ),
]
IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}
CITIES = ["shanghai", "beijing", "hangzhou", "shenzhen"]
# The floor ops set for each trim: this share of its base price (the default elsewhere is 85 %).
FLOOR_PERCENT = 88
OTHER_HOLDERS = 30


def _settle() -> None:
    """Run the subscribers of the events recorded at this moment, as the worker would after commit."""
    for event in Event.objects.filter(occurred_at=clock.now()).only("id", "name"):
        if subscribers_for(event.name):
            deliver_event.call(str(event.id))


def _merchant_login(username: str, name: str, merchant: Merchant) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, role=Role.PARTNER, display_name=name)
        user.set_password(DEMO_PASSWORD)
        user.save()
    MerchantStaff.objects.get_or_create(user=user, defaults={"merchant": merchant})
    return user


def _merchants() -> tuple[Merchant, Merchant]:
    shanghai = City.objects.filter(code="shanghai").first()
    wash = Merchant.objects.create(
        name="洁车坊·徐汇店",
        name_en="CleanCar Xuhui",
        kind=MerchantKind.CAR_WASH,
        city=shanghai,
        address="上海市徐汇区漕溪北路 398 号",
    )
    driver = Merchant.objects.create(
        name="安驾代驾·上海",
        name_en="SafeRide Designated Drivers Shanghai",
        kind=MerchantKind.DESIGNATED_DRIVER,
        city=shanghai,
        address="上海市静安区南京西路 1266 号",
    )
    _merchant_login("demo-merchant", "洁车坊 前台 刘洋", wash)
    _merchant_login("demo-merchant-2", "安驾代驾 客服 孙悦", driver)
    return wash, driver


def _floors(trims: list[Trim]) -> None:
    for trim in trims:
        try:
            base = trim_snapshot_for(trim.code, fresh=True).base_price_fen
        except Exception:  # a trim without a current price has no floor to set
            continue
        if base:
            PriceFloor.objects.get_or_create(
                trim=trim, defaults={"floor_fen": base * FLOOR_PERCENT // 100, "updated_at": clock.now()}
            )


def _campaigns(today: datetime, model: VehicleModel | None, merchants: tuple[Merchant, Merchant]) -> dict:
    wash, driver = merchants
    start = today - timedelta(days=20)
    end = today + timedelta(days=40)
    base: dict[str, Any] = {"starts_at": start, "ends_at": end, "created_at": start, "updated_at": start}
    models = [model.code] if model else []

    def make(key: str, **fields: Any) -> tuple[str, Campaign]:
        return key, Campaign.objects.create(**{**base, **fields})

    made = dict(
        [
            make(
                "double11",
                name="双11购车立减 ¥5,000",
                name_en="Double 11: ¥5,000 off",
                kind=CouponKind.CASH_OFF,
                description="双11限时购车礼，下单即可抵扣。",
                description_en="A Double 11 gift: taken off your car order.",
                conditions="限指定车型，限上海、北京、杭州、深圳门店提车",
                conditions_en="Selected model; delivery in Shanghai, Beijing, Hangzhou or Shenzhen",
                face_value_fen=5_000_00,
                budget_count=500,
                budget_fen=2_500_000_00,
                eligible_models=models,
                eligible_cities=CITIES,
                exclusive=True,
                valid_days=45,
            ),
            make(
                "percent",
                name="9.5折购车券（最高减¥8,000）",
                name_en="5% off your car (up to ¥8,000)",
                kind=CouponKind.PERCENT_OFF,
                conditions="可与到店礼同享",
                conditions_en="Stacks with the store-visit gift",
                percent_off_bp=500,
                percent_cap_fen=8_000_00,
                budget_fen=1_600_000_00,
                per_person_limit=1,
                max_order_discount_fen=12_000_00,
            ),
            make(
                "gift",
                name="到店礼·车载养护套装",
                name_en="Store-visit gift: car-care kit",
                kind=CouponKind.GIFT,
                gift_description="车载养护套装（洗车液、镀膜剂、超细纤维毛巾）",
                gift_description_en="Car-care kit (shampoo, sealant, microfibre towels)",
                conditions="到店试驾后凭券领取，每人一份",
                conditions_en="Collect at the store after a test drive; one each",
                face_value_fen=399_00,
                budget_count=2000,
                valid_days=30,
            ),
            make(
                "wash",
                name="精致洗车券",
                name_en="Premium car wash",
                kind=CouponKind.MERCHANT_SERVICE,
                merchant=wash,
                face_value_fen=68_00,
                budget_count=1000,
                per_person_limit=3,
                conditions="洁车坊门店使用，需提前预约",
                conditions_en="At CleanCar; book ahead",
            ),
            make(
                "fuel",
                name="加油/充电立减 ¥50",
                name_en="¥50 off fuel or charging",
                kind=CouponKind.MERCHANT_SERVICE,
                merchant=wash,
                face_value_fen=50_00,
                budget_count=1000,
                per_person_limit=2,
            ),
            make(
                "driver",
                name="代驾服务券",
                name_en="Designated driver voucher",
                kind=CouponKind.MERCHANT_SERVICE,
                merchant=driver,
                face_value_fen=88_00,
                budget_count=800,
                per_person_limit=2,
                conditions="上海市内 20 公里以内",
                conditions_en="Within 20 km in Shanghai",
            ),
            make(
                "rental",
                name="租车立减 ¥200",
                name_en="¥200 off a car rental",
                kind=CouponKind.MERCHANT_SERVICE,
                merchant=driver,
                face_value_fen=200_00,
                budget_count=300,
            ),
            make(
                "paid",
                name="双11 ¥99抵¥2,000",
                name_en="Double 11: pay ¥99, get ¥2,000 off",
                kind=CouponKind.PAID_MULTIPLIER,
                description="先付 ¥99，购车时抵 ¥2,000；未使用可随时退款。",
                description_en="Pay ¥99 now, take ¥2,000 off your car; refundable while unused.",
                price_fen=99_00,
                face_value_fen=2_000_00,
                budget_count=300,
                per_person_limit=2,
                on_cancel=OnCancel.VOID,
                valid_days=60,
            ),
        ]
    )
    # 9.5折 and the paid coupon stack with each other; 双11 is exclusive (stacks with nothing).
    made["percent"].stackable_with.set([made["paid"]])
    return made


def _claim(campaign: Campaign, holder: User, at: datetime) -> Voucher | None:
    with clock.frozen_at(at):
        try:
            voucher = campaign_claim(campaign=campaign, holder=holder)
        except DomainError as error:
            logger.warning("demo claim refused", extra=log_context(code=error.code))
            return None
        _settle()
    return voucher


def _pay(voucher: Voucher, at: datetime) -> None:
    with clock.frozen_at(at):
        voucher_pay_start(
            voucher=voucher, provider="sandbox", return_url="/offers/mine/", actor=voucher.holder
        )
        intent = [
            intent
            for intent in payment_selectors.payment_intents_for(reference=voucher.code, purpose=PURPOSE)
            if intent.status == "created"
        ][-1]
        with override_settings(TASKS=IMMEDIATE_TASKS):
            payment_sandbox_choose(intent=intent, choice="pay")
        _settle()


def _redeem(voucher: Voucher, at: datetime, *, dealer: Dealer | None, merchant: Merchant | None) -> bool:
    """Write the voucher off through writeoff's service; False when that service is not there."""
    try:
        redemption = importlib.import_module("forecourt.offers.services.redemption")
    except ImportError:
        return False
    staff = None
    if dealer is not None:
        staff = dealer.staff.filter(role__in=[Role.SALES_ADVISOR, Role.DEALER_MANAGER]).order_by("pk").first()
    elif merchant is not None:
        link = MerchantStaff.objects.filter(merchant=merchant).select_related("user").first()
        staff = link.user if link else None
    with clock.frozen_at(at):
        try:
            redemption.redemption_record(
                voucher=Voucher.objects.get(pk=voucher.pk),
                staff=staff,
                dealer=dealer,
                merchant=merchant,
                idempotency_key=f"demo-{voucher.code}",
            )
        except DomainError as error:
            logger.warning("demo write-off refused", extra=log_context(code=error.code))
            return False
        _settle()
    return True


def _holders(count: int) -> list[User]:
    return list(
        User.objects.filter(role=Role.CONSUMER).exclude(phone_encrypted="").order_by("pk")[: count + 1]
    )


def seed(*, rng: random.Random) -> None:
    """Campaigns of every kind, merchants with logins, price floors, and vouchers in every state."""
    if Campaign.objects.exclude(kind=CouponKind.SUBSIDY).exists():
        return
    today = clock.now()
    model = VehicleModel.objects.order_by("pk").first()
    trims = list(Trim.objects.filter(is_active=True).order_by("pk"))
    merchants = _merchants()
    _floors(trims)
    campaigns = _campaigns(today, model, merchants)
    dealers = list(Dealer.objects.filter(is_active=True).order_by("pk")[:4])
    demo_dealer = dealers[0] if dealers else None
    wash, _driver = merchants

    consumer = consumer_get_or_create_by_phone(phone=DEMO_CONSUMER_PHONE, display_name="张伟")
    ago = lambda days: today - timedelta(days=days)  # noqa: E731

    # The demo consumer: active coupons, one used at the demo dealer, one used at the car wash, an expired
    # one, a paid coupon paid for, and one awaiting payment (claimed a few minutes ago).
    _claim(campaigns["double11"], consumer, ago(5))
    _claim(campaigns["percent"], consumer, ago(4))
    _claim(campaigns["driver"], consumer, ago(3))
    gift = _claim(campaigns["gift"], consumer, ago(12))
    if gift and demo_dealer:
        _redeem(gift, ago(10) + timedelta(hours=3), dealer=demo_dealer, merchant=None)
    washed = _claim(campaigns["wash"], consumer, ago(9))
    if washed:
        _redeem(washed, ago(8) + timedelta(hours=2), dealer=None, merchant=wash)
    _claim(campaigns["wash"], consumer, ago(2))
    lapsing = _claim(campaigns["fuel"], consumer, ago(19))
    if lapsing:
        Voucher.objects.filter(pk=lapsing.pk).update(valid_until=ago(1))
    paid = _claim(campaigns["paid"], consumer, ago(6))
    if paid:
        _pay(paid, ago(6) + timedelta(minutes=4))
    _claim(campaigns["paid"], consumer, today - timedelta(minutes=5))

    # Many others: claims spread over the campaign, a share of them written off, a few paid coupons.
    people = [person for person in _holders(OTHER_HOLDERS) if person.pk != consumer.pk]
    keys = ["double11", "percent", "gift", "wash", "fuel", "driver", "rental", "paid"]
    for person in people:
        for key in rng.sample(keys, k=rng.randint(1, 3)):
            voucher = _claim(campaigns[key], person, ago(rng.uniform(1, 18)))
            if voucher is None:
                continue
            if voucher.kind == CouponKind.PAID_MULTIPLIER:
                if rng.random() < 0.7:
                    _pay(voucher, voucher.created_at + timedelta(minutes=rng.randint(1, 20)))
                continue
            if rng.random() < 0.35:
                place_dealer = rng.choice(dealers) if voucher.kind == CouponKind.GIFT and dealers else None
                place_merchant = voucher.campaign.merchant
                if place_dealer or place_merchant:
                    at = min(
                        voucher.created_at + timedelta(days=rng.uniform(0.2, 2)), today - timedelta(hours=1)
                    )
                    _redeem(voucher, at, dealer=place_dealer, merchant=place_merchant)
    # Unpaid paid coupons older than the payment window are voided (their budget goes back); lapsed expire.
    offers_sweep()
    _subsidies(rng)


def _subsidies(rng: random.Random) -> None:
    try:
        module = importlib.import_module("forecourt.offers.demo_subsidies")
    except ImportError:
        return
    module.seed_subsidies(rng=rng)
