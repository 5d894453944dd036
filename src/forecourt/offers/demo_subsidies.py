"""Demo data for subsidies: 上海市2026年汽车以旧换新补贴 with applications in every state.

Called by the offers demo data (`seed_subsidies(*, rng=...)`) after the accounts, catalog and dealers
demo data exist. The applicants are demo consumers; their resident ID numbers are made up with a valid
GB 11643 check digit; their certificates are small generated PDF and PNG files.
"""

from __future__ import annotations

import logging
import random
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.test.utils import override_settings

from forecourt.accounts.models import Role, User
from forecourt.catalog.configurator import default_choices
from forecourt.catalog.models import Trim, VehicleModel
from forecourt.catalog.selectors import configuration_quote, trim_snapshot_for
from forecourt.catalog.services import configuration_save
from forecourt.core import clock
from forecourt.core.demo_people import demo_name
from forecourt.core.errors import DomainError
from forecourt.core.events import events_deliver_now
from forecourt.core.logging import log_context
from forecourt.dealers.models import City, Dealer
from forecourt.offers.models import IdDocumentType, Sponsor, SubsidyApplication, SubsidyProgramme, Voucher
from forecourt.offers.services.subsidies import (
    id_check_character,
    subsidy_apply,
    subsidy_decide,
    subsidy_programme_create,
    subsidy_withdraw,
)
from forecourt.payments import selectors as payment_selectors
from forecourt.payments.services import payment_sandbox_choose

logger = logging.getLogger(__name__)

PROGRAMME_NAME = "上海市2026年汽车以旧换新补贴"
# Shanghai district codes (黄浦, 徐汇, 长宁, 静安, 普陀, 虹口, 杨浦, 闵行, 宝山, 浦东).
_AREAS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113", "310115")
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# The sandbox gateway notifies from a task: run tasks at once while seeding (the worker is not running).
IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}
# (state, how many): every state a reviewer meets.
_PLAN = (("approved_used", 1), ("approved", 2), ("rejected", 1), ("withdrawn", 1), ("submitted", 3))
_REJECT_REASONS = (
    "报废证明上的车主姓名与身份证不一致，请核对后重新申请。",
    "上传的报废机动车回收证明不清晰，无法核验编号。",
)


def fake_resident_id(rng: random.Random) -> str:
    """A made-up Shanghai resident ID number with a real birth date and a valid check digit."""
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
    first17 = f"{rng.choice(_AREAS)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_character(first17)


def fake_plate(rng: random.Random) -> str:
    return "沪" + rng.choice("ABCDEFGHJKLMN") + "".join(rng.choice(_PLATE_LETTERS) for _ in range(5))


def demo_png(rng: random.Random) -> bytes:
    """A small grey-blue PNG (64 × 40), enough to stand for a photographed certificate."""
    width, height = 64, 40
    shade = rng.randrange(150, 220)
    row = b"\x00" + bytes((shade, shade, 230)) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def demo_pdf(number: str) -> bytes:
    """A one-page PDF with the certificate number on it."""
    text = f"BAOFEI ZHENGMING {number}".encode("ascii")
    stream = b"BT /F1 14 Tf 40 100 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for index, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{index} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def _settle() -> None:
    """Run the subscribers of the events recorded at this moment (and of the events they record), as
    the worker would after the commit: a payment credited to its order, a delivery's vouchers written off."""
    events_deliver_now()


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    with clock.frozen_at(moment):
        yield
        _settle()


def _pay_online(order: Any, stage: str) -> None:
    """The buyer pays `stage` of the order through the sandbox gateway (its notification credits it)."""
    from forecourt.orders import services as orders  # offers never imports orders at module level

    order.refresh_from_db()  # the previous payment was credited by a subscriber
    orders.order_pay_start(
        order=order, stage=stage, provider="sandbox", return_url=f"/orders/{order.number}/", actor=order.buyer
    )
    intent = [
        intent
        for intent in payment_selectors.payment_intents_for(reference=order.number, purpose=f"order.{stage}")
        if intent.status == "created"
    ][-1]
    with override_settings(TASKS=IMMEDIATE_TASKS):
        payment_sandbox_choose(intent=intent, choice="pay")


def _purchase_place(programme: SubsidyProgramme) -> tuple[Dealer, User] | None:
    """A dealer of the programme's city that delivers cars, and its sales advisor."""
    dealers = Dealer.objects.filter(is_active=True, offers_delivery=True).order_by("pk")
    if programme.city_id is not None:
        dealers = dealers.filter(city_id=programme.city_id)
    for dealer in dealers:
        staff = (
            User.objects.filter(
                dealer=dealer, role__in=[Role.SALES_ADVISOR, Role.DEALER_MANAGER], is_active=True
            )
            .order_by("pk")
            .first()
        )
        if staff is not None:
            return dealer, staff
    return None


def _configuration(application: SubsidyApplication, buyer: User) -> Any:
    """The buyer's saved configuration of the car named in the application (its defaults), if it has one."""
    trims = Trim.objects.filter(model=application.intended_model, is_active=True, is_limited_edition=False)
    for trim in trims.order_by("position", "code"):
        choices = sorted(default_choices(trim_snapshot_for(trim.code)))
        if configuration_quote(trim_code=trim.code, option_codes=choices).valid:
            return configuration_save(trim_code=trim.code, option_codes=choices, owner=buyer)
    return None


def _buy_with_subsidy(application: SubsidyApplication, *, start: datetime, rng: random.Random) -> Any:
    """The applicant buys the car they applied for at a dealer of the programme's city, with the subsidy
    voucher on the order; the order is paid, a car allocated and delivered, and the delivery writes the
    voucher off against the order at its dealer. Returns the order, or None when the catalogue or the
    dealers cannot support a purchase (the application then stays approved and unused)."""
    from forecourt.orders import services as orders  # offers never imports orders at module level

    voucher = Voucher.objects.get(application=application)
    place = _purchase_place(application.programme)
    if place is None:
        return None
    dealer, staff = place
    buyer = application.applicant
    day = timedelta(days=1)
    # Handed over at 10:00 in Shanghai, eight days after the order.
    delivery_at = (
        (start + 8 * day).astimezone(clock.SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    )
    try:
        with _at(start):
            configuration = _configuration(application, buyer)
            if configuration is None:
                return None
        with _at(start + timedelta(minutes=20)):
            order = orders.order_place(
                buyer=buyer, configuration=configuration, dealer=dealer, voucher_codes=[voucher.code]
            )
            _pay_online(order, "intention")
        with _at(start + timedelta(hours=3)):
            _pay_online(order, "deposit")
        with _at(start + 2 * day):
            order.refresh_from_db()
            order = orders.order_lock(order=order, actor=buyer)
        with _at(start + 4 * day):
            vin = (
                "LSB" + "".join(rng.choice(_VIN_LETTERS) for _ in range(6)) + f"TS{rng.randrange(10**6):06d}"
            )
            car = orders.vehicle_add(
                vin=vin, trim=order.trim, option_codes=list(order.option_codes), dealer=dealer
            )
            order = orders.order_allocate_vehicle(order=order, vehicle=car, actor=staff)
        with _at(start + 6 * day):
            order = orders.order_final_payment_confirm(
                order=order, actor=staff, receipt_number=f"POS{start:%Y%m%d}{rng.randrange(1000, 9999)}"
            )
            order = orders.order_delivery_book(order=order, delivery_at=delivery_at, actor=staff)
        with _at(delivery_at + timedelta(minutes=40)):
            order = orders.order_delivery_confirm(order=order, actor=staff)
    except DomainError as error:
        logger.warning("demo subsidy purchase stopped", extra=log_context(code=error.code))
        return None
    return order


def _apply(
    programme: SubsidyProgramme, person: User, models: list[VehicleModel], rng: random.Random
) -> SubsidyApplication:
    number = f"SH{clock.now():%Y}{rng.randrange(10**7, 10**8)}"
    if rng.random() < 0.5:
        certificate = ContentFile(demo_pdf(number), name="certificate.pdf")
    else:
        certificate = ContentFile(demo_png(rng), name="certificate.png")
    return subsidy_apply(
        programme=programme,
        applicant=person,
        full_name=person.display_name if len(person.display_name or "") >= 2 else demo_name(rng),
        id_type=IdDocumentType.RESIDENT_ID,
        id_number=fake_resident_id(rng),
        scrapped_plate=fake_plate(rng),
        certificate_number=number,
        certificate=certificate,
        intended_model_code=rng.choice(models).code,
    )


def seed_subsidies(*, rng: random.Random) -> SubsidyProgramme | None:
    """One government programme (¥10,000 per applicant, pool ¥500,000) with applications in every state;
    the first approved applicant has bought their car with the subsidy on the order, written off at
    its delivery."""
    if SubsidyProgramme.objects.filter(name=PROGRAMME_NAME).exists():
        return None
    models = list(VehicleModel.objects.order_by("position", "code")[:4])
    consumers = list(User.objects.filter(role=Role.CONSUMER).order_by("pk")[: sum(n for _s, n in _PLAN)])
    ops = User.objects.filter(role=Role.OPS).order_by("pk").first()
    if not models or ops is None or not consumers:
        return None
    at = clock.now()
    opened = at - timedelta(days=30)
    with clock.frozen_at(opened):
        programme = subsidy_programme_create(
            name=PROGRAMME_NAME,
            name_en="Shanghai 2026 car replacement subsidy",
            description="报废本人名下在沪登记的旧车并购买新能源新车，每人补贴1万元，额度用完即止。",
            description_en="Scrap an old car registered in Shanghai in your name and buy a new-energy car: "
            "¥10,000 per person while the pool lasts.",
            sponsor=Sponsor.GOVERNMENT,
            city=City.objects.filter(code="shanghai").first(),
            amount_fen=10_000_00,
            pool_fen=500_000_00,
            opens_at=opened,
            closes_at=at + timedelta(days=150),
            eligible_models=[model.code for model in models],
            actor=ops,
        )
    people = iter(consumers)
    for state, count in _PLAN:
        for _index in range(count):
            person = next(people, None)
            if person is None:
                return programme
            # The used subsidy was granted weeks ago (its car is delivered since); the others lately.
            days_ago = 25 if state == "approved_used" else rng.uniform(1, 12)
            submitted_at = at - timedelta(days=days_ago, minutes=rng.randrange(0, 600))
            with clock.frozen_at(submitted_at):
                application = _apply(programme, person, models, rng)
            decided_at = min(submitted_at + timedelta(hours=rng.uniform(4, 30)), at - timedelta(minutes=30))
            with clock.frozen_at(decided_at):
                if state in ("approved", "approved_used"):
                    application = subsidy_decide(application=application, actor=ops, approve=True)
                elif state == "rejected":
                    subsidy_decide(
                        application=application, actor=ops, approve=False, reason=rng.choice(_REJECT_REASONS)
                    )
                elif state == "withdrawn":
                    subsidy_withdraw(application=application, actor=person)
            if state == "approved_used":
                _buy_with_subsidy(application, start=decided_at + timedelta(days=2), rng=rng)
    return programme
