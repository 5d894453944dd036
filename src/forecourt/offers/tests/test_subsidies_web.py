"""Subsidy pages, API and the audit report (CSV parsed back, XLSX opened with openpyxl)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.test import Client

from forecourt.core.models import AuditEntry
from forecourt.offers.models import ApplicationStatus, SubsidyApplication, Voucher
from forecourt.offers.reports import report_summary
from forecourt.offers.services import redemption_record, subsidy_decide
from forecourt.offers.tests.factories import make_consumer, make_staff
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403  (the autouse `media` fixture)
from forecourt.offers.tests.subsidy_fixtures import (
    PDF,
    apply_for,
    certificate_file,
    client_for,
    make_ops,
    make_programme,
    resident_id,
)

pytestmark = pytest.mark.django_db


def decided_programme():
    """A programme with one application in each state, one of them written off at a dealer."""
    programme = make_programme()
    ops = make_ops()
    used = apply_for(programme, full_name="王芳")
    subsidy_decide(application=used, actor=ops, approve=True)
    staff = make_staff()
    voucher = Voucher.objects.get(application=used)
    redemption_record(voucher=voucher, staff=staff, dealer=staff.dealer, order_reference="")
    approved = apply_for(programme, full_name="李强")
    subsidy_decide(application=approved, actor=ops, approve=True)
    rejected = apply_for(programme, full_name="=HYPERLINK(1)")
    subsidy_decide(application=rejected, actor=ops, approve=False, reason="证明不清晰")
    submitted = apply_for(programme, full_name="赵敏")
    return programme, ops, {"used": used, "approved": approved, "rejected": rejected, "submitted": submitted}


# ---- Report -------------------------------------------------------------------------------------


def test_the_csv_report_lists_every_application_masked_with_the_write_off() -> None:
    programme, ops, apps = decided_programme()
    response = client_for(ops).get(f"/api/v1/subsidies/{programme.public_id}/report.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.getvalue().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert len(rows) == 5
    by_id = {row[0]: row for row in rows[1:]}
    used = by_id[apps["used"].public_id]
    assert used[2] == "王芳" and used[3].endswith("****" + apps["used"].id_number_last4)
    staff_place = used[15]
    assert staff_place and used[14] and used[13] == "10000.00"
    assert by_id[apps["rejected"].public_id][10] == "证明不清晰"
    assert by_id[apps["rejected"].public_id][2] == "'=HYPERLINK(1)"  # no formula injection
    for application in SubsidyApplication.objects.all():
        from forecourt.offers.services.subsidies import id_number_decrypt

        assert id_number_decrypt(application.id_number_encrypted) not in body


def test_the_xlsx_report_has_headers_money_and_shanghai_times() -> None:
    programme, ops, apps = decided_programme()
    response = client_for(ops).get(f"/api/v1/subsidies/{programme.public_id}/report.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5 and rows[0][0]
    used = next(row for row in rows[1:] if row[0] == apps["used"].public_id)
    assert used[13] == 10000.0
    assert sheet.cell(row=2, column=14).number_format.startswith('"¥"') or sheet.cell(
        row=3, column=14
    ).number_format.startswith('"¥"')
    submitted_local = apps["submitted"].submitted_at.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    )
    submitted_row = next(row for row in rows[1:] if row[0] == apps["submitted"].public_id)
    assert submitted_row[1].replace(microsecond=0) == submitted_local.replace(tzinfo=None, microsecond=0)
    assert sheet.column_dimensions["A"].width == 26


def test_the_summary_counts_pool_granted_used_and_states() -> None:
    programme, _ops, _apps = decided_programme()
    summary = report_summary(programme)
    assert (summary.pool_fen, summary.granted_fen, summary.remaining_fen) == (50_000_00, 20_000_00, 30_000_00)
    assert summary.counts == {"submitted": 1, "approved": 2, "rejected": 1, "withdrawn": 0}
    assert summary.used_fen >= 0


@pytest.mark.parametrize("suffix", ["report.csv", "report.xlsx"])
def test_the_report_is_for_ops_only(suffix: str) -> None:
    programme = make_programme()
    assert Client().get(f"/api/v1/subsidies/{programme.public_id}/{suffix}").status_code == 401
    assert (
        client_for(make_consumer()).get(f"/api/v1/subsidies/{programme.public_id}/{suffix}").status_code
        == 403
    )
    assert client_for(make_staff()).get(f"/subsidies/ops/{programme.public_id}/{suffix}").status_code == 404


# ---- API ----------------------------------------------------------------------------------------


def test_the_api_lists_programmes_and_takes_a_multipart_application(media: Path) -> None:
    programme = make_programme()
    listed = Client().get("/api/v1/subsidies").json()
    assert [item["id"] for item in listed] == [programme.public_id]
    assert listed[0]["pool"] == {"amount": 50_000_00, "currency": "CNY"}
    person = make_consumer()
    client = client_for(person)
    number = resident_id()
    response = client.post(
        f"/api/v1/subsidies/{programme.public_id}/applications",
        {
            "full_name": "张伟",
            "id_type": "resident_id",
            "id_number": number,
            "scrapped_plate": "沪AD12345",
            "certificate_number": "SH2026000777",
            "intended_model": programme.campaign.eligible_models[0],
            "certificate": certificate_file(PDF, "a.pdf"),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted" and body["id_document"] == {
        "type": "resident_id",
        "last4": number[-4:],
    }
    assert number not in response.content.decode()
    mine = client.get("/api/v1/subsidies/applications").json()
    assert [item["id"] for item in mine] == [body["id"]]


def test_a_bad_api_application_names_the_field(media: Path) -> None:
    programme = make_programme()
    response = client_for(make_consumer()).post(
        f"/api/v1/subsidies/{programme.public_id}/applications",
        {"full_name": "张伟", "id_type": "resident_id"},
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "id_number"
    assert not SubsidyApplication.objects.exists() and not any(media.rglob("*.*"))


def test_unknown_programme_is_404() -> None:
    response = client_for(make_consumer()).post("/api/v1/subsidies/sbp_nope/applications", {})
    assert response.status_code == 404


def test_the_decision_endpoint_is_ops_only_and_issues_the_voucher(media: Path) -> None:
    application = apply_for(make_programme())
    url = f"/api/v1/subsidies/applications/{application.public_id}/decision"
    consumer = client_for(application.applicant)
    assert consumer.post(url, {"approve": True}, content_type="application/json").status_code == 403
    ops = client_for(make_ops())
    response = ops.post(url, {"approve": False, "reason": ""}, content_type="application/json")
    assert response.status_code == 422 and response.json()["details"][0]["field"] == "reason"
    response = ops.post(url, {"approve": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["voucher"]["status"] == "active"
    again = ops.post(url, {"approve": True}, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "already_decided")


# ---- Pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_consumer_pages_render_in_both_languages(language: str) -> None:
    programme = make_programme()
    client = client_for(make_consumer())
    client.cookies["django_language"] = language
    for url in ("/subsidies/", f"/subsidies/{programme.public_id}/apply/", "/subsidies/mine/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
    assert programme.name in Client().get("/subsidies/").content.decode()


def test_the_upload_flow_from_the_form_to_my_applications(media: Path) -> None:
    programme = make_programme()
    person = make_consumer()
    client = client_for(person)
    number = resident_id()
    response = client.post(
        f"/subsidies/{programme.public_id}/apply/",
        {
            "full_name": "张伟",
            "id_type": "resident_id",
            "id_number": number,
            "scrapped_plate": "沪A12345",
            "certificate_number": "SH2026000999",
            "intended_model": programme.campaign.eligible_models[0],
            "certificate": certificate_file(PDF, "x.pdf"),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/subsidies/mine/"
    application = SubsidyApplication.objects.get(applicant=person)
    subsidy_decide(application=application, actor=make_ops(), approve=True)
    page = client.get("/subsidies/mine/").content.decode()
    voucher = Voucher.objects.get(application=application)
    assert f"/offers/mine/{voucher.code}/" in page
    assert number not in page and number[-4:] in page


def test_a_refused_form_shows_field_errors_and_never_echoes_the_id_number(media: Path) -> None:
    programme = make_programme()
    response = client_for(make_consumer()).post(
        f"/subsidies/{programme.public_id}/apply/",
        {
            "full_name": "张伟",
            "id_type": "resident_id",
            "id_number": "110105194912310021",
            "scrapped_plate": "沪A12345",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="err-id_number"' in page and "110105194912310021" not in page
    assert 'value="张伟"' in page
    assert not SubsidyApplication.objects.exists()


def test_the_ops_pages_are_ops_only_and_decide(media: Path) -> None:
    application = apply_for(make_programme())
    detail = f"/subsidies/ops/applications/{application.public_id}/"
    certificate = detail + "certificate/"
    for user in (application.applicant, make_staff()):
        client = client_for(user)
        assert client.get("/subsidies/ops/").status_code == 404
        assert client.get(detail).status_code == 404
        assert client.get(certificate).status_code == 404
    assert Client().get("/subsidies/ops/").status_code == 302
    ops = client_for(make_ops())
    listing = ops.get("/subsidies/ops/")
    assert listing.status_code == 200 and application.public_id in listing.content.decode()
    assert ops.get(detail).status_code == 200
    served = ops.get(certificate)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="subsidy.certificate_viewed").count() == 1
    response = ops.post(detail + "decide/", {"decision": "reject", "reason": "证明不清晰"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert ops.get(f"/subsidies/ops/{application.programme.public_id}/report.csv").status_code == 200


def test_the_media_url_does_not_serve_certificates(media: Path) -> None:
    application = apply_for(make_programme())
    assert client_for(make_ops()).get("/media/" + str(application.certificate.name)).status_code == 404


def test_the_applicant_withdraws_from_my_applications(media: Path) -> None:
    application = apply_for(make_programme())
    client = client_for(application.applicant)
    response = client.post(f"/subsidies/mine/{application.public_id}/withdraw/")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert (
        client_for(make_consumer()).post(f"/subsidies/mine/{application.public_id}/withdraw/").status_code
        == 404
    )
