"""A subsidy from application to purchase, through the real pages and services: the programme, an
application with a PDF certificate uploaded through the form, ops approving it on the review page, the
applicant placing a car order with the subsidy voucher, paying, the car allocated and delivered, the
voucher written off against that order at its dealer, and the audit report showing the application, the
decision and the write-off with the order. Cancelling such an order before delivery releases the voucher
(a subsidy campaign releases)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from forecourt.catalog.tests.factories import VehicleModelFactory
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.offers.models import (
    ApplicationStatus,
    CouponKind,
    OnCancel,
    Redemption,
    SubsidyApplication,
    SubsidyProgramme,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.reports import report_rows, report_summary
from forecourt.offers.tests.ordering_cast import *  # noqa: F403
from forecourt.offers.tests.ordering_cast import STD_TOTAL, committed, fresh, pay
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403
from forecourt.offers.tests.subsidy_fixtures import (
    PDF,
    client_for,
    make_ops,
    make_programme,
    resident_id,
)
from forecourt.orders.models import Order, OrderStatus
from forecourt.orders.services import (
    order_allocate_vehicle,
    order_cancel,
    order_delivery_book,
    order_delivery_confirm,
    order_lock,
    vehicle_add,
)

pytestmark = pytest.mark.django_db

SUBSIDY = 10_000_00


@pytest.fixture
def programme(catalogue, city) -> SubsidyProgramme:
    """Shanghai's programme for the Aurora, opened under the orders tests' frozen clock."""
    return make_programme(models=[catalogue.model], city=city, amount_fen=SUBSIDY)


@pytest.fixture
def ops():
    return make_ops()


def apply_through_the_form(
    programme: SubsidyProgramme, applicant, model_code: str = "aurora"
) -> SubsidyApplication:
    """The applicant fills in the form and uploads the certificate as a PDF file."""
    response = client_for(applicant).post(
        f"/subsidies/{programme.public_id}/apply/",
        {
            "full_name": "张伟",
            "id_type": "resident_id",
            "id_number": resident_id(),
            "scrapped_plate": "沪A12345",
            "certificate_number": "SH2026000123",
            "intended_model": model_code,
            "certificate": SimpleUploadedFile("报废证明.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/subsidies/mine/", response.content
    return SubsidyApplication.objects.get(programme=programme, applicant=applicant)


def approve_on_the_review_page(application: SubsidyApplication, ops) -> Voucher:
    response = client_for(ops).post(
        f"/subsidies/ops/applications/{application.public_id}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 302
    return Voucher.objects.get(application=application)


@pytest.fixture
def subsidy_voucher(programme, buyer, ops, media) -> Voucher:
    application = apply_through_the_form(programme, buyer)
    assert application.certificate_content_type == "application/pdf"
    assert (media / application.certificate.name).read_bytes() == PDF
    return approve_on_the_review_page(application, ops)


def deliver(order: Order, advisor) -> Order:
    """Intention and deposit paid, locked, a car allocated, the final payment, delivered."""
    pay(order, "intention")
    pay(order, "deposit")
    locked = order_lock(order=fresh(order), actor=order.buyer)
    car = vehicle_add(
        vin="LRWYGCEK8PC000001",
        trim=locked.trim,
        option_codes=["white", "black-int", "wheels-18", "heat-pump"],
        dealer=locked.dealer,
    )
    allocated = order_allocate_vehicle(order=locked, vehicle=car, actor=advisor)
    pay(allocated, "final")
    booked = order_delivery_book(
        order=fresh(allocated), delivery_at=clock.now() + timedelta(days=2), actor=advisor
    )
    with committed():
        order_delivery_confirm(order=booked, actor=advisor)
    return fresh(order)


def test_an_approved_subsidy_is_written_off_against_the_applicants_order_at_delivery(
    programme, subsidy_voucher, place, buyer, advisor, dealer, ops
) -> None:
    voucher = subsidy_voucher
    application = voucher.application
    assert (voucher.holder, voucher.kind, voucher.status, voucher.face_value_fen) == (
        buyer,
        CouponKind.SUBSIDY,
        VoucherStatus.ACTIVE,
        SUBSIDY,
    )

    order = place(voucher_codes=[voucher.code])
    assert (order.discount_fen, order.total_fen) == (SUBSIDY, STD_TOTAL - SUBSIDY)
    assert [(line["code"], line["kind"], line["value_fen"]) for line in order.applied_offers] == [
        (voucher.code, CouponKind.SUBSIDY, SUBSIDY)
    ]
    voucher.refresh_from_db()
    assert (voucher.status, voucher.order_reference, voucher.order_dealer_id) == (
        VoucherStatus.APPLIED,
        order.number,
        dealer.pk,
    )

    delivered = deliver(order, advisor)
    assert delivered.status == OrderStatus.DELIVERED
    assert delivered.paid_fen == STD_TOTAL - SUBSIDY

    redemption = Redemption.objects.get(voucher=voucher)
    assert (
        redemption.dealer_id,
        redemption.place,
        redemption.order_reference,
        redemption.value_fen,
        redemption.reversed_at,
    ) == (dealer.pk, dealer.name, order.number, SUBSIDY, None)
    voucher.refresh_from_db()
    assert (voucher.status, voucher.order_reference) == (VoucherStatus.REDEEMED, order.number)
    redeemed = Event.objects.get(name="voucher.redeemed", subject_id=voucher.code)
    assert redeemed.dealer_id == dealer.pk

    # The audit report: the application, its decision and the write-off with the order.
    rows = list(report_rows(programme))
    assert len(rows) == 1
    row = rows[0]
    assert row[0] == application.public_id
    assert row[7] == str(ApplicationStatus.APPROVED.label)
    assert row[8] is not None and row[9] == (ops.display_name or ops.get_username())
    assert row[11:14] == [voucher.display_code, str(VoucherStatus.REDEEMED.label), 10000]
    assert row[14] == redemption.redeemed_at.astimezone(clock.SHANGHAI)
    assert (row[15], row[16], row[17]) == (dealer.name, order.number, 10000)
    summary = report_summary(programme)
    assert (summary.granted_fen, summary.used_fen, summary.remaining_fen) == (
        SUBSIDY,
        SUBSIDY,
        programme.campaign.budget_fen - SUBSIDY,
    )
    response = client_for(ops).get(f"/subsidies/ops/{programme.public_id}/report.csv")
    assert response.status_code == 200
    body = response.getvalue().decode("utf-8").lstrip("\ufeff")
    [header, csv_row] = list(csv.reader(io.StringIO(body)))
    assert len(header) == len(csv_row) == 18
    assert (csv_row[0], csv_row[15], csv_row[16], csv_row[17]) == (
        application.public_id,
        dealer.name,
        order.number,
        "10000.00",
    )


def test_cancelling_the_order_before_delivery_releases_the_subsidy_for_another_order(
    subsidy_voucher, place, buyer
) -> None:
    voucher = subsidy_voucher
    assert voucher.campaign.on_cancel == OnCancel.RELEASE
    order = place(voucher_codes=[voucher.code])
    pay(order, "intention")
    pay(order, "deposit")
    with committed():
        order_cancel(order=fresh(order), actor=buyer)
    assert fresh(order).status == OrderStatus.CANCELLED
    voucher.refresh_from_db()
    assert (voucher.status, voucher.order_reference, voucher.order_dealer_id, voucher.applied_value_fen) == (
        VoucherStatus.ACTIVE,
        "",
        None,
        0,
    )
    assert not Redemption.objects.exists()
    released = Event.objects.get(name="voucher.released", subject_id=voucher.code)
    assert released.payload["order"] == order.number
    # The pool is not given back: the subsidy stays granted to the applicant, who uses it again.
    programme = voucher.campaign.programme
    assert report_summary(programme).granted_fen == SUBSIDY
    again = place(voucher_codes=[voucher.code])
    assert (again.discount_fen, again.total_fen) == (SUBSIDY, STD_TOTAL - SUBSIDY)


def test_the_subsidy_is_refused_on_a_car_outside_the_programme(
    subsidy_voucher, place, other_dealer, buyer
) -> None:
    voucher = subsidy_voucher
    # The programme is Shanghai's: an order delivered by a Hangzhou dealer cannot carry it.
    with pytest.raises(DomainError) as caught:
        place(voucher_codes=[voucher.code], dealer=other_dealer)
    assert (caught.value.code, caught.value.status) == ("not_eligible", 409)
    assert not Order.objects.exists()
    voucher.refresh_from_db()
    assert (voucher.status, voucher.order_reference) == (VoucherStatus.ACTIVE, "")


def test_the_subsidy_is_refused_for_a_model_the_programme_does_not_cover(
    catalogue, city, buyer, ops, place, media
) -> None:
    other_model = VehicleModelFactory.create()
    programme = make_programme(models=[other_model], city=city, amount_fen=SUBSIDY)
    application = apply_through_the_form(programme, buyer, other_model.code)
    voucher = approve_on_the_review_page(application, ops)
    with pytest.raises(DomainError) as caught:
        place(voucher_codes=[voucher.code])
    assert caught.value.code == "not_eligible"
    assert not Order.objects.exists()
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ACTIVE
