"""Subsidy programmes: applying (validation, encryption at rest, duplicates, files), deciding, the pool."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import IntegrityError

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import AuditEntry, Event
from forecourt.offers.models import (
    ApplicationStatus,
    IdDocumentType,
    SubsidyApplication,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.services import subsidy_decide, subsidy_withdraw
from forecourt.offers.services.subsidies import (
    id_check_character,
    id_number_decrypt,
    id_number_hash,
    id_number_normalise,
    plate_normalise,
)
from forecourt.offers.tests.factories import make_consumer, make_staff
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403  (the autouse `media` fixture)
from forecourt.offers.tests.subsidy_fixtures import (
    JPEG,
    PDF,
    apply_for,
    certificate_file,
    make_ops,
    make_programme,
    resident_id,
)

pytestmark = pytest.mark.django_db


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def field_of(error: DomainError) -> str:
    return error.details[0]["field"]


# ---- ID numbers --------------------------------------------------------------------------------


def test_the_gb11643_check_digit_of_a_known_number() -> None:
    assert id_check_character("11010519491231002") == "X"
    assert id_number_normalise(id_type="resident_id", id_number="11010519491231002x") == "11010519491231002X"


def test_full_width_digits_and_spaces_are_normalised() -> None:
    assert (
        id_number_normalise(id_type="resident_id", id_number="１１０１０５ 1949 1231 002X")
        == "11010519491231002X"
    )


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("resident_id", "110105194912310021"),  # wrong check digit
        ("resident_id", "11010519491331002X"),  # month 13
        ("resident_id", "1101051949123100"),  # too short
        ("resident_id", "11010521491231002X"),  # born in the future
        ("passport", "E1"),
        ("passport", "ABCDEFG"),  # no digit
        ("hk_macao_permit", "X12345678"),
        ("taiwan_permit", "1234567"),
        ("foreigner_permanent", "AB1234567890123"),
        ("resident_id", ""),
    ],
)
def test_an_invalid_id_number_is_a_422_naming_id_number(id_type: str, number: str) -> None:
    with pytest.raises(DomainError) as caught:
        id_number_normalise(id_type=id_type, id_number=number)
    assert (caught.value.status, field_of(caught.value)) == (422, "id_number")


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("passport", "E12345678"),
        ("hk_macao_permit", "H12345678"),
        ("taiwan_permit", "12345678"),
        ("foreigner_permanent", "USA123456789012"),
    ],
)
def test_other_documents_accept_their_patterns(id_type: str, number: str) -> None:
    assert id_number_normalise(id_type=id_type, id_number=number) == number


def test_an_unknown_document_type_is_a_422_naming_id_type() -> None:
    with pytest.raises(DomainError) as caught:
        id_number_normalise(id_type="driver_licence", id_number="E12345678")
    assert field_of(caught.value) == "id_type"


@pytest.mark.parametrize(
    "plate", ["沪A12345", "沪A·1234学", "沪AD12345", "粤BFA1234", "京A12345D", " 沪a 12345 "]
)
def test_mainland_plates_including_new_energy_are_accepted(plate: str) -> None:
    assert plate_normalise(plate).startswith(("沪", "粤", "京"))


@pytest.mark.parametrize("plate", ["", "AA12345", "沪A1234", "沪AI2345", "沪AD1234567", "台A12345"])
def test_a_bad_plate_is_a_422_naming_the_field(plate: str) -> None:
    with pytest.raises(DomainError) as caught:
        plate_normalise(plate)
    assert field_of(caught.value) == "scrapped_plate"


# ---- Applying -----------------------------------------------------------------------------------


def test_an_application_stores_the_id_encrypted_with_a_hash_and_the_last_four(media: Path) -> None:
    programme = make_programme()
    number = resident_id()
    application = apply_for(programme, id_number=number)
    row = SubsidyApplication.objects.filter(pk=application.pk).values().get()
    assert number not in str(row)
    assert row["id_number_last4"] == number[-4:]
    assert row["id_number_hash"] == id_number_hash(id_type="resident_id", number=number)
    assert id_number_decrypt(row["id_number_encrypted"]) == number
    assert row["status"] == ApplicationStatus.SUBMITTED
    assert Event.objects.filter(name="subsidy.applied", subject_id=application.public_id).count() == 1
    assert number not in str(Event.objects.get(name="subsidy.applied").payload)


def test_the_certificate_is_stored_under_a_generated_name_with_its_real_type(media: Path) -> None:
    application = apply_for(make_programme(), certificate=certificate_file(PDF, name="张伟-身份证.png"))
    name = str(application.certificate.name)
    assert name.startswith(f"subsidy/{application.programme.public_id}/{application.public_id}-")
    assert name.endswith(".pdf") and "张伟" not in name
    assert application.certificate_content_type == "application/pdf"
    assert (media / name).read_bytes() == PDF


def test_a_jpeg_is_accepted_by_its_magic_bytes(media: Path) -> None:
    application = apply_for(make_programme(), certificate=certificate_file(JPEG, name="scan.pdf"))
    assert str(application.certificate.name).endswith(".jpg")
    assert application.certificate_content_type == "image/jpeg"


@pytest.mark.parametrize(
    "content",
    [b"GIF89a" + b"\x00" * 20, b"<html><script>alert(1)</script>", b"MZ\x90\x00", b""],
)
def test_a_certificate_that_is_not_pdf_jpeg_or_png_is_refused_whatever_its_name(
    media: Path, content: bytes
) -> None:
    programme = make_programme()
    with pytest.raises(DomainError) as caught:
        apply_for(programme, certificate=certificate_file(content, name="certificate.pdf"))
    assert (caught.value.status, field_of(caught.value)) == (422, "certificate")
    assert not SubsidyApplication.objects.exists() and stored_files(media) == []


def test_a_missing_certificate_is_refused(media: Path) -> None:
    with pytest.raises(DomainError) as caught:
        apply_for(make_programme(), certificate=None)
    assert field_of(caught.value) == "certificate"


def test_a_certificate_over_the_size_limit_is_refused(settings, media: Path) -> None:
    settings.OFFERS_CERTIFICATE_MAX_BYTES = 1024
    with pytest.raises(DomainError) as caught:
        apply_for(make_programme(), certificate=certificate_file(PDF + b"\x00" * 1024))
    assert field_of(caught.value) == "certificate"
    assert not SubsidyApplication.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": "张"}, "full_name"),
        ({"full_name": "<b>张伟</b>"}, "full_name"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"id_type": "nope"}, "id_type"),
        ({"scrapped_plate": "ABC"}, "scrapped_plate"),
        ({"certificate_number": "12"}, "certificate_number"),
        ({"intended_model_code": "no-such-model"}, "intended_model_code"),
        ({"intended_trim_code": "no-such-trim"}, "intended_trim_code"),
    ],
)
def test_each_bad_field_is_a_422_naming_it_and_writes_nothing(
    media: Path, overrides: dict, field: str
) -> None:
    programme = make_programme()
    with pytest.raises(DomainError) as caught:
        apply_for(programme, **overrides)
    assert (caught.value.status, field_of(caught.value)) == (422, field)
    assert not SubsidyApplication.objects.exists()
    assert stored_files(media) == []
    assert not Event.objects.filter(name="subsidy.applied").exists()


def test_a_model_outside_the_programme_is_refused(media: Path) -> None:
    from forecourt.catalog.tests.factories import VehicleModelFactory

    other = VehicleModelFactory()
    with pytest.raises(DomainError) as caught:
        apply_for(make_programme(), intended_model_code=other.code)
    assert (caught.value.code, field_of(caught.value)) == ("not_eligible", "intended_model_code")


@pytest.mark.parametrize(("opens_in", "closes_in"), [(1, 30), (-60, -1)])
def test_applying_outside_the_window_is_409_programme_closed(
    media: Path, opens_in: int, closes_in: int
) -> None:
    at = clock.now()
    programme = make_programme(
        opens_at=at + timedelta(days=opens_in), closes_at=at + timedelta(days=closes_in)
    )
    with pytest.raises(DomainError) as caught:
        apply_for(programme)
    assert (caught.value.code, caught.value.status) == ("programme_closed", 409)
    assert not SubsidyApplication.objects.exists() and stored_files(media) == []


def test_staff_cannot_apply(media: Path) -> None:
    with pytest.raises(DomainError) as caught:
        apply_for(make_programme(), applicant=make_staff())
    assert caught.value.status == 403


def test_one_standing_application_per_id_number(media: Path) -> None:
    programme = make_programme()
    number = resident_id()
    apply_for(programme, id_number=number)
    with pytest.raises(DomainError) as caught:
        apply_for(programme, id_number=number.lower())
    assert (caught.value.code, caught.value.status) == ("already_applied", 409)
    assert SubsidyApplication.objects.count() == 1 and len(stored_files(media)) == 1


def test_one_standing_application_per_person(media: Path) -> None:
    programme = make_programme()
    person = make_consumer()
    apply_for(programme, applicant=person)
    with pytest.raises(DomainError) as caught:
        apply_for(programme, applicant=person)
    assert caught.value.code == "already_applied"
    assert SubsidyApplication.objects.count() == 1


def test_after_a_rejection_the_person_may_apply_again(media: Path) -> None:
    programme = make_programme()
    person = make_consumer()
    first = apply_for(programme, applicant=person)
    subsidy_decide(application=first, actor=make_ops(), approve=False, reason="证明不清晰")
    second = apply_for(programme, applicant=person)
    assert second.status == ApplicationStatus.SUBMITTED


def test_a_duplicate_caught_by_the_database_constraint_leaves_no_file(media: Path) -> None:
    programme = make_programme()
    person = make_consumer()
    apply_for(programme, applicant=person)
    # The pre-check is passed (as in a race): the unique constraint still refuses, and the file goes.
    with mock.patch("forecourt.offers.services.subsidies._standing") as standing:
        standing.return_value.filter.return_value.exists.return_value = False
        with pytest.raises(DomainError) as caught:
            apply_for(programme, applicant=person)
    assert caught.value.code == "already_applied"
    assert SubsidyApplication.objects.count() == 1 and len(stored_files(media)) == 1


def test_a_failed_insert_deletes_the_stored_file(media: Path) -> None:
    programme = make_programme()
    with (
        mock.patch("forecourt.offers.services.subsidies.event_record", side_effect=RuntimeError("db down")),
        pytest.raises(RuntimeError),
    ):
        apply_for(programme)
    assert not SubsidyApplication.objects.exists()
    assert stored_files(media) == []


def test_a_failed_upload_writes_no_row(media: Path) -> None:
    programme = make_programme()
    with (
        mock.patch(
            "forecourt.offers.services.subsidies.default_storage.save", side_effect=OSError("disk full")
        ),
        pytest.raises(OSError),
    ):
        apply_for(programme)
    assert not SubsidyApplication.objects.exists()
    assert not Event.objects.filter(name="subsidy.applied").exists()


# ---- Deciding -----------------------------------------------------------------------------------


def test_approval_issues_the_subsidy_voucher_from_the_pool(media: Path) -> None:
    programme = make_programme()
    application = apply_for(programme)
    ops = make_ops()
    subsidy_decide(application=application, actor=ops, approve=True)
    application.refresh_from_db()
    voucher = Voucher.objects.get(application=application)
    assert application.status == ApplicationStatus.APPROVED and application.decided_by == ops
    assert (voucher.holder, voucher.kind, voucher.status) == (
        application.applicant,
        "subsidy",
        VoucherStatus.ACTIVE,
    )
    assert voucher.face_value_fen == 10_000_00
    programme.campaign.refresh_from_db()
    assert programme.campaign.claimed_fen == 10_000_00
    assert Event.objects.filter(name="subsidy.approved", subject_id=application.public_id).count() == 1
    assert AuditEntry.objects.filter(action="subsidy.approved", object_id=application.public_id).count() == 1


def test_rejection_needs_a_reason_and_records_it(media: Path) -> None:
    application = apply_for(make_programme())
    ops = make_ops()
    with pytest.raises(DomainError) as caught:
        subsidy_decide(application=application, actor=ops, approve=False, reason="  ")
    assert field_of(caught.value) == "reason"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    subsidy_decide(application=application, actor=ops, approve=False, reason="报废证明与车主不符")
    application.refresh_from_db()
    assert (application.status, application.reject_reason) == (
        ApplicationStatus.REJECTED,
        "报废证明与车主不符",
    )
    assert not Voucher.objects.exists()
    assert Event.objects.filter(name="subsidy.rejected").count() == 1
    assert AuditEntry.objects.filter(action="subsidy.rejected").count() == 1


@pytest.mark.parametrize("role", ["consumer", "sales_advisor", "dealer_manager", "partner", "broker"])
def test_only_ops_may_decide(media: Path, role: str) -> None:
    from forecourt.accounts.tests.factories import make_user

    application = apply_for(make_programme())
    fields = {"dealer": make_staff().dealer} if role in ("sales_advisor", "dealer_manager") else {}
    with pytest.raises(DomainError) as caught:
        subsidy_decide(application=application, actor=make_user(role=role, **fields), approve=True)
    assert caught.value.status == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and not Voucher.objects.exists()


def test_a_decided_application_cannot_be_decided_again(media: Path) -> None:
    application = apply_for(make_programme())
    ops = make_ops()
    subsidy_decide(application=application, actor=ops, approve=True)
    for approve in (True, False):
        with pytest.raises(DomainError) as caught:
            subsidy_decide(application=application, actor=ops, approve=approve, reason="再次")
        assert (caught.value.code, caught.value.status) == ("already_decided", 409)
    assert Voucher.objects.count() == 1
    assert Event.objects.filter(name__in=["subsidy.approved", "subsidy.rejected"]).count() == 1


def test_the_pool_is_never_exceeded_and_the_refused_application_stays_submitted(media: Path) -> None:
    programme = make_programme(pool_fen=20_000_00)
    ops = make_ops()
    applications = [apply_for(programme) for _ in range(3)]
    subsidy_decide(application=applications[0], actor=ops, approve=True)
    subsidy_decide(application=applications[1], actor=ops, approve=True)
    with pytest.raises(DomainError) as caught:
        subsidy_decide(application=applications[2], actor=ops, approve=True)
    assert (caught.value.code, caught.value.status) == ("pool_exhausted", 409)
    applications[2].refresh_from_db()
    assert applications[2].status == ApplicationStatus.SUBMITTED and applications[2].decided_at is None
    programme.campaign.refresh_from_db()
    assert programme.campaign.claimed_fen == 20_000_00 and Voucher.objects.count() == 2
    assert Event.objects.filter(name="subsidy.approved").count() == 2


def test_the_applicant_withdraws_a_submitted_application(media: Path) -> None:
    application = apply_for(make_programme())
    with pytest.raises(DomainError) as caught:
        subsidy_withdraw(application=application, actor=make_consumer())
    assert caught.value.status == 404
    subsidy_withdraw(application=application, actor=application.applicant)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    with pytest.raises(DomainError) as caught:
        subsidy_withdraw(application=application, actor=application.applicant)
    assert caught.value.code == "already_decided"
    with pytest.raises(DomainError) as caught:
        subsidy_decide(application=application, actor=make_ops(), approve=True)
    assert caught.value.code == "already_decided"


def test_the_database_refuses_a_second_standing_application_per_id(media: Path) -> None:
    first = apply_for(make_programme())
    duplicate = SubsidyApplication.objects.get(pk=first.pk)
    duplicate.pk = None
    duplicate.public_id = "sba_duplicate"
    duplicate.applicant = make_consumer()
    with pytest.raises(IntegrityError):
        duplicate.save(force_insert=True)


def test_other_document_types_are_stored_too(media: Path) -> None:
    application = apply_for(make_programme(), id_type=IdDocumentType.PASSPORT, id_number="e12345678")
    assert application.id_number_last4 == "5678"
    assert id_number_decrypt(application.id_number_encrypted) == "E12345678"
