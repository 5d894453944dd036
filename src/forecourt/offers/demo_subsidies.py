"""Demo data for subsidies: 上海市2026年汽车以旧换新补贴 with applications in every state.

Called by the offers demo data (`seed_subsidies(*, rng=...)`) after the accounts, catalog and dealers
demo data exist. The applicants are demo consumers; their resident ID numbers are made up with a valid
GB 11643 check digit; their certificates are small generated PDF and PNG files.
"""

from __future__ import annotations

import random
import struct
import zlib
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import transaction

from forecourt.accounts.models import Role, User
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.demo_people import demo_name
from forecourt.dealers.models import City, Dealer
from forecourt.offers.models import IdDocumentType, Sponsor, SubsidyApplication, SubsidyProgramme
from forecourt.offers.services.subsidies import (
    id_check_character,
    subsidy_apply,
    subsidy_decide,
    subsidy_programme_create,
    subsidy_withdraw,
)

PROGRAMME_NAME = "上海市2026年汽车以旧换新补贴"
# Shanghai district codes (黄浦, 徐汇, 长宁, 静安, 普陀, 虹口, 杨浦, 闵行, 宝山, 浦东).
_AREAS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113", "310115")
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
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


def _write_off(voucher_application: SubsidyApplication) -> None:
    """Write the approved subsidy off at a Shanghai dealer, as at a purchase (skipped if not possible)."""
    from forecourt.offers.services import redemption_record  # the write-off helper's service

    voucher = voucher_application.voucher
    dealer = Dealer.objects.filter(city__code="shanghai").order_by("pk").first() or Dealer.objects.first()
    if dealer is None:
        return
    staff = User.objects.filter(dealer=dealer).order_by("pk").first()
    try:
        with transaction.atomic():
            redemption_record(
                voucher=voucher, staff=staff, dealer=dealer, idempotency_key=f"demo-{voucher.code}"
            )
    except Exception:
        return


def seed_subsidies(*, rng: random.Random) -> SubsidyProgramme | None:
    """One government programme (¥10,000 per applicant, pool ¥500,000) with applications in every state."""
    if SubsidyProgramme.objects.filter(name=PROGRAMME_NAME).exists():
        return None
    models = list(VehicleModel.objects.order_by("position", "code")[:4])
    consumers = list(User.objects.filter(role=Role.CONSUMER).order_by("pk")[: sum(n for _s, n in _PLAN)])
    ops = User.objects.filter(role=Role.OPS).order_by("pk").first()
    if not models or ops is None or not consumers:
        return None
    at = clock.now()
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
        opens_at=at - timedelta(days=30),
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
            number = f"SH{at:%Y}{rng.randrange(10**7, 10**8)}"
            if rng.random() < 0.5:
                certificate = ContentFile(demo_pdf(number), name="certificate.pdf")
            else:
                certificate = ContentFile(demo_png(rng), name="certificate.png")
            application = subsidy_apply(
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
            if state in ("approved", "approved_used"):
                application = subsidy_decide(application=application, actor=ops, approve=True)
                if state == "approved_used":
                    _write_off(application)
            elif state == "rejected":
                subsidy_decide(
                    application=application, actor=ops, approve=False, reason=rng.choice(_REJECT_REASONS)
                )
            elif state == "withdrawn":
                subsidy_withdraw(application=application, actor=person)
    return programme
