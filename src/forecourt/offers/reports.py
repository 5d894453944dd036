"""The subsidy audit report: every application, its decision and its voucher's write-off, as CSV or Excel.

The ID number appears masked (document type and last four). Times are in Asia/Shanghai; money is in
yuan (a number in Excel with a money format, a plain decimal in the CSV). The CSV is produced row by
row, so a large programme streams rather than building the whole file in memory; core.exports writes both
formats (byte-order mark, formula guard, formats).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.db.models import Count, Prefetch, Sum
from django.utils.translation import gettext as _

from forecourt.core.clock import SHANGHAI
from forecourt.core.exports import MONEY_FORMAT, csv_lines, xlsx_bytes, xlsx_table, yuan
from forecourt.offers.models import (
    ApplicationStatus,
    Redemption,
    SubsidyApplication,
    SubsidyProgramme,
    Voucher,
)
from forecourt.offers.services.subsidies import id_masked

CHUNK = 500


def _headers() -> list[tuple[str, int]]:
    """(column title, Excel width) in report order."""
    return [
        (_("Application"), 26),
        (_("Submitted at"), 18),
        (_("Name on the ID"), 14),
        (_("ID document"), 26),
        (_("Scrapped plate"), 12),
        (_("Certificate number"), 22),
        (_("Car to buy"), 16),
        (_("Status"), 14),
        (_("Decided at"), 18),
        (_("Decided by"), 16),
        (_("Reason"), 30),
        (_("Voucher"), 20),
        (_("Voucher status"), 14),
        (_("Subsidy (yuan)"), 14),
        (_("Written off at"), 18),
        (_("Where"), 24),
        (_("Order"), 20),
        (_("Written-off amount (yuan)"), 16),
    ]


# Indexes of the columns that hold times and money (Excel formats them).
TIME_COLUMNS = (1, 8, 14)
MONEY_COLUMNS = (13, 17)


def local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(SHANGHAI)


def _applications(programme: SubsidyProgramme) -> Iterator[SubsidyApplication]:
    standing = Redemption.objects.filter(reversed_at__isnull=True).order_by("-redeemed_at")
    queryset = (
        SubsidyApplication.objects.filter(programme=programme)
        .select_related("intended_model", "decided_by")
        .prefetch_related(
            Prefetch(
                "voucher",
                queryset=Voucher.objects.prefetch_related(Prefetch("redemptions", queryset=standing)),
            )
        )
        .order_by("submitted_at", "id")
    )
    # iterator() with prefetching fetches in chunks: the report never holds every row at once.
    yield from queryset.iterator(chunk_size=CHUNK)


def _voucher_of(application: SubsidyApplication) -> Voucher | None:
    try:
        return application.voucher
    except Voucher.DoesNotExist:
        return None


def report_rows(programme: SubsidyProgramme) -> Iterator[list[object]]:
    """One row per application (Python values: aware Shanghai times, Decimal yuan)."""
    for application in _applications(programme):
        voucher = _voucher_of(application)
        redemption = None
        if voucher is not None:
            redemptions = list(voucher.redemptions.all())
            redemption = redemptions[0] if redemptions else None
        decided_by = application.decided_by
        yield [
            application.public_id,
            local(application.submitted_at),
            application.full_name,
            id_masked(id_type=application.id_type, last4=application.id_number_last4),
            application.scrapped_plate,
            application.certificate_number,
            application.intended_model.display_name,
            str(ApplicationStatus(application.status).label),
            local(application.decided_at),
            (decided_by.display_name or decided_by.get_username()) if decided_by else "",
            application.reject_reason,
            voucher.display_code if voucher else "",
            str(voucher.get_status_display()) if voucher else "",
            yuan(voucher.face_value_fen) if voucher else None,
            local(redemption.redeemed_at) if redemption else None,
            redemption.place if redemption else "",
            (redemption.order_reference or voucher.order_reference) if redemption and voucher else "",
            yuan(redemption.value_fen or voucher.applied_value_fen) if redemption and voucher else None,
        ]


def report_csv_lines(programme: SubsidyProgramme) -> Iterator[str]:
    """The CSV, line by line (BOM first): give it to a StreamingHttpResponse."""
    header = [title for title, _width in _headers()]
    return csv_lines(chain([header], report_rows(programme)))


def report_xlsx(programme: SubsidyProgramme) -> bytes:
    """The Excel workbook: a header row, column widths, yuan numbers with a money format, Shanghai times."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Applications")[:31]
    xlsx_table(
        sheet,
        headers=_headers(),
        rows=report_rows(programme),
        time_columns=TIME_COLUMNS,
        money_columns=MONEY_COLUMNS,
    )
    summary = report_summary(programme)
    totals = workbook.create_sheet(_("Summary")[:31])
    totals.column_dimensions["A"].width = 24
    totals.column_dimensions["B"].width = 18
    for label, fen in (
        (_("Pool"), summary.pool_fen),
        (_("Granted"), summary.granted_fen),
        (_("Used"), summary.used_fen),
        (_("Remaining"), summary.remaining_fen),
    ):
        totals.append([label, float(yuan(fen) or 0)])
        totals.cell(row=totals.max_row, column=2).number_format = MONEY_FORMAT
    for status, count in summary.counts.items():
        totals.append([str(ApplicationStatus(status).label), count])
    return xlsx_bytes(workbook)


@dataclass(frozen=True)
class ReportSummary:
    pool_fen: int
    granted_fen: int
    used_fen: int
    remaining_fen: int
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def report_summary(programme: SubsidyProgramme) -> ReportSummary:
    """Pool, granted (vouchers issued), used (written off), remaining, and applications by status."""
    campaign = programme.campaign
    campaign.refresh_from_db(fields=["budget_fen", "claimed_fen"])
    pool = campaign.budget_fen or 0
    granted = campaign.claimed_fen
    used = (
        Redemption.objects.filter(voucher__campaign=campaign, reversed_at__isnull=True).aggregate(
            total=Sum("value_fen")
        )["total"]
        or 0
    )
    by_status = dict(
        SubsidyApplication.objects.filter(programme=programme)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    counts = {status: by_status.get(status, 0) for status in ApplicationStatus.values}
    return ReportSummary(
        pool_fen=pool, granted_fen=granted, used_fen=used, remaining_fen=pool - granted, counts=counts
    )
