"""Subsidy programmes: a fixed pool handed out, after review, as subsidy vouchers.

The pool is the programme's campaign budget (`budget_fen`), so approving takes it by the same
conditional UPDATE as any claim and can never hand out more than the pool. The applicant's ID number
is stored encrypted (with a keyed hash to find a second application with the same ID).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from forecourt.catalog.language import in_language
from forecourt.core import clock
from forecourt.core.identifiers import public_id

from .campaigns import Campaign


def new_programme_public_id() -> str:
    return public_id("sbp")


def new_application_public_id() -> str:
    return public_id("sba")


class Sponsor(models.TextChoices):
    GOVERNMENT = "government", _("City government")
    MAKER = "maker", _("The maker")


class IdDocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    FOREIGNER_PERMANENT = "foreigner_permanent", _("Foreign permanent resident ID card")


class SubsidyProgramme(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_programme_public_id, editable=False)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=600, blank=True)
    description_en = models.CharField(_("English description"), max_length=800, blank=True)
    sponsor = models.CharField(_("sponsor"), max_length=12, choices=Sponsor.choices)
    city = models.ForeignKey(
        "dealers.City", null=True, blank=True, on_delete=models.PROTECT, related_name="subsidy_programmes"
    )
    # The campaign that issues the subsidy vouchers: its money budget is the pool.
    campaign = models.OneToOneField(Campaign, on_delete=models.PROTECT, related_name="programme")
    amount_fen = models.BigIntegerField(_("subsidy per applicant (fen)"))
    opens_at = models.DateTimeField(_("applications open at"))
    closes_at = models.DateTimeField(_("applications close at"))
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("subsidy programme")
        verbose_name_plural = _("subsidy programmes")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="subsidy_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def display_description(self) -> str:
        return in_language(self.description, self.description_en)


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def certificate_upload_to(instance: SubsidyApplication, filename: str) -> str:
    # Never the applicant's file name: it may carry personal data and is not needed.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"subsidy/{instance.programme.public_id}/{instance.public_id}.{extension}"


class SubsidyApplication(models.Model):
    public_id = models.CharField(
        max_length=32, unique=True, default=new_application_public_id, editable=False
    )
    programme = models.ForeignKey(SubsidyProgramme, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subsidy_applications"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    full_name = models.CharField(_("name on the ID"), max_length=60)
    id_type = models.CharField(_("ID document type"), max_length=24, choices=IdDocumentType.choices)
    # Fernet ciphertext of the ID number, a keyed hash to find duplicates, and the last four to show.
    id_number_encrypted = models.TextField()
    id_number_hash = models.CharField(max_length=64)
    id_number_last4 = models.CharField(max_length=4)
    scrapped_plate = models.CharField(_("scrapped car's plate"), max_length=12)
    certificate_number = models.CharField(_("scrapping certificate number"), max_length=40)
    certificate = models.FileField(
        _("scrapping certificate"), upload_to=certificate_upload_to, max_length=200
    )
    certificate_content_type = models.CharField(max_length=60, blank=True)
    intended_model = models.ForeignKey(
        "catalog.VehicleModel", on_delete=models.PROTECT, related_name="+", verbose_name=_("car to buy")
    )
    intended_trim = models.ForeignKey(
        "catalog.Trim", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reject_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("subsidy application")
        verbose_name_plural = _("subsidy applications")
        indexes = [models.Index(fields=["programme", "status"], name="subsidy_app_prog_status_idx")]
        constraints = [
            # One standing application per ID document per programme (a rejected one may be followed).
            models.UniqueConstraint(
                fields=["programme", "id_number_hash"],
                condition=Q(status__in=["submitted", "approved"]),
                name="subsidy_one_standing_per_id",
            ),
            models.UniqueConstraint(
                fields=["programme", "applicant"],
                condition=Q(status__in=["submitted", "approved"]),
                name="subsidy_one_standing_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="subsidy_rejection_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(status="withdrawn") | Q(decided_at__isnull=False),
                name="subsidy_decision_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id
