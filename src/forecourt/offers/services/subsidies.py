"""Subsidy programmes: create one, apply for it, decide applications, withdraw one.

The pool is the programme campaign's `budget_fen`: an approval issues the subsidy voucher through
`voucher_issue`, whose conditional UPDATE takes the pool, so no number of concurrent approvals can hand
out more than it holds. The applicant's ID number is stored only as Fernet ciphertext (MultiFernet over
OFFERS_ID_ENCRYPTION_KEYS: the first key encrypts), an HMAC-SHA256 hash under OFFERS_ID_HASH_KEY to find
a second application with the same document, and its last four characters to show.

The scrapping certificate is checked by its magic bytes (never its name), saved under a generated name,
and deleted again if the application's row cannot be written, so a failure leaves neither file nor row.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import Role, User
from forecourt.catalog.models import Trim, VehicleModel
from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.events import event_record
from forecourt.dealers.models import City
from forecourt.offers.errors import OfferErrorCode, field_error
from forecourt.offers.models import (
    ApplicationStatus,
    Campaign,
    Channel,
    CouponKind,
    IdDocumentType,
    OnCancel,
    Sponsor,
    SubsidyApplication,
    SubsidyProgramme,
)
from forecourt.offers.services.claims import HOLDER_ROLES, voucher_issue

SUBJECT_TYPE = "subsidy_application"
DEFAULT_VALID_DAYS = 90
INVALID = CoreErrorCode.INVALID

# ---- ID documents ----------------------------------------------------------------------------------

# GB 11643-1999: weights of the first 17 digits; the sum mod 11 indexes the check character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_PASSPORT = re.compile(r"(?=[A-Z0-9]*[0-9])[A-Z0-9]{5,17}")
# 港澳居民来往内地通行证: H/M + 8 digits (+ 2 digits of the issue count on older cards).
_HK_MACAO = re.compile(r"[HM][0-9]{8}([0-9]{2})?")
# 台湾居民来往大陆通行证: 8 digits (older cards: 10 digits, or 8 digits and a letter in brackets).
_TAIWAN = re.compile(r"[0-9]{8}([0-9]{2})?")
# 外国人永久居留身份证: the 2017 card is 3 letters + 12 digits; the 2023 card is 18 characters starting
# with 9, with the same check character as a resident ID.
_FOREIGNER_OLD = re.compile(r"[A-Z]{3}[0-9]{12}")


def id_check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _valid_birth_date(digits: str, today: date) -> bool:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= today


def _document_error(message: str) -> DomainError:
    return field_error(OfferErrorCode.INVALID_DOCUMENT, "id_number", message)


def id_number_normalise(*, id_type: str, id_number: str) -> str:
    """The canonical spelling of an ID number for its document type, or a 422 naming `id_number`."""
    if id_type not in IdDocumentType.values:
        raise field_error(INVALID, "id_type", _("Choose an ID document type."))
    if not isinstance(id_number, str) or not id_number.strip():
        raise _document_error(_("Enter the ID number."))
    # NFKC turns full-width characters from Chinese input methods into ASCII; separators are dropped.
    number = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", id_number)).upper()
    if not number.isascii() or len(number) > 20:
        raise _document_error(_("The ID number contains characters it cannot have."))
    today = clock.local_now().date()
    if id_type == IdDocumentType.RESIDENT_ID:
        if not _RESIDENT_ID.fullmatch(number):
            raise _document_error(_("A resident ID number has 18 characters: 17 digits and a digit or X."))
        if not _valid_birth_date(number[6:14], today):
            raise _document_error(_("The date of birth in this resident ID number is not a real date."))
        if id_check_character(number[:17]) != number[17]:
            raise _document_error(_("This resident ID number's check digit is wrong: check for a typo."))
    elif id_type == IdDocumentType.PASSPORT:
        if not _PASSPORT.fullmatch(number):
            raise _document_error(_("A passport number has 5 to 17 letters and digits."))
    elif id_type == IdDocumentType.HK_MACAO_PERMIT:
        if not _HK_MACAO.fullmatch(number):
            raise _document_error(_("A Hong Kong or Macao permit number is H or M followed by 8 digits."))
    elif id_type == IdDocumentType.TAIWAN_PERMIT:
        if not _TAIWAN.fullmatch(number):
            raise _document_error(_("A Taiwan residents' permit number has 8 digits."))
    elif not (
        _FOREIGNER_OLD.fullmatch(number)
        or (
            _RESIDENT_ID.fullmatch(number)
            and number.startswith("9")
            and id_check_character(number[:17]) == number[17]
        )
    ):
        raise _document_error(
            _("A foreign permanent resident ID number is 3 letters and 12 digits, or 18 characters.")
        )
    return number


def _fernet() -> MultiFernet:
    # The first key encrypts; the others still decrypt, so keys can be rotated.
    return MultiFernet([Fernet(key.encode()) for key in settings.OFFERS_ID_ENCRYPTION_KEYS])


def id_number_hash(*, id_type: str, number: str) -> str:
    """Keyed hash (HMAC-SHA256) of a normalised ID number: finds duplicates, cannot be enumerated."""
    message = f"{id_type}:{number}".encode()
    return hmac.new(settings.OFFERS_ID_HASH_KEY.encode(), message, hashlib.sha256).hexdigest()


def id_number_encrypt(number: str) -> str:
    return _fernet().encrypt(number.encode()).decode()


def id_number_decrypt(token: str) -> str:
    """The plain ID number (for an ops member entitled to see it: audit the call)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DomainError(INVALID, "stored ID number cannot be decrypted with the configured keys") from None


def id_masked(*, id_type: str, last4: str) -> str:
    """What anyone but the holder sees: the document type and the last four characters."""
    return f"{IdDocumentType(id_type).label} ****{last4}"


# ---- Plates, names, certificates ------------------------------------------------------------------

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # plates never use I or O
_PLATE_PATTERNS = (
    # Ordinary plates: province, issuing office letter, five letters/digits (the last may be 学/挂/警…).
    re.compile(rf"[{_PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳]"),
    # New-energy small cars (8 characters): the energy letter (D, A–K) first, then a letter or digit
    # and four digits.
    re.compile(rf"[{_PROVINCES}][{_LETTER}][A-HJK][{_LETTER}0-9][0-9]{{4}}"),
    # New-energy large vehicles: five digits then D or F.
    re.compile(rf"[{_PROVINCES}][{_LETTER}][0-9]{{5}}[DF]"),
)
_CERTIFICATE_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9\-]{5,39}")
_NAME = re.compile(r"[^\x00-\x1f\x7f<>\"'&;]{2,60}")

_MAGIC = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def plate_normalise(plate: str) -> str:
    """A mainland plate without separators (`沪A·12345` → `沪A12345`), or a 422 naming `scrapped_plate`."""
    text = re.sub(r"[\s·•\-.]", "", unicodedata.normalize("NFKC", plate or "")).upper()
    if not any(pattern.fullmatch(text) for pattern in _PLATE_PATTERNS):
        raise field_error(
            INVALID,
            "scrapped_plate",
            _("Enter the scrapped car's mainland plate, such as 沪A12345 or 沪AD12345 (new energy)."),
        )
    return text


def certificate_kind(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes: PDF, JPEG or PNG, else None."""
    for magic, content_type, extension in _MAGIC:
        if head.startswith(magic):
            return content_type, extension
    return None


def _certificate_check(certificate: File | None) -> tuple[str, str]:
    if certificate is None or not getattr(certificate, "size", 0):
        raise field_error(INVALID, "certificate", _("Upload the scrapping certificate (PDF, JPEG or PNG)."))
    if certificate.size > settings.OFFERS_CERTIFICATE_MAX_BYTES:
        raise field_error(
            INVALID,
            "certificate",
            _("The certificate file is too large (at most %(megabytes)s MB).")
            % {"megabytes": settings.OFFERS_CERTIFICATE_MAX_BYTES // (1024 * 1024) or 1},
        )
    certificate.seek(0)
    head = certificate.read(16)
    certificate.seek(0)
    kind = certificate_kind(head)
    if kind is None:
        raise field_error(INVALID, "certificate", _("The certificate must be a PDF, JPEG or PNG file."))
    return kind


# ---- Programmes ------------------------------------------------------------------------------------


def _require_ops(actor: User | None) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise DomainError(CoreErrorCode.NOT_AUTHENTICATED, _("Sign in first."), status=401)
    if actor.role != Role.OPS:
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only OEM operations may do this."), status=403)


def programme_is_open(programme: SubsidyProgramme, at: datetime | None = None) -> bool:
    moment = at or clock.now()
    return programme.campaign.is_active and programme.opens_at <= moment < programme.closes_at


def subsidy_programme_create(
    *,
    name: str,
    name_en: str,
    sponsor: str,
    city: City | None,
    amount_fen: int,
    pool_fen: int,
    opens_at: datetime,
    closes_at: datetime,
    eligible_models: Sequence[str],
    actor: User | None,
    description: str = "",
    description_en: str = "",
    valid_days: int = DEFAULT_VALID_DAYS,
) -> SubsidyProgramme:
    """Create a programme and the subsidy campaign whose money budget is its pool."""
    if actor is not None:
        _require_ops(actor)
    if not name.strip() or len(name) > 80:
        raise field_error(INVALID, "name", _("Give the programme a name (up to 80 characters)."))
    if sponsor not in Sponsor.values:
        raise field_error(INVALID, "sponsor", _("Choose who sponsors the programme."))
    if amount_fen <= 0:
        raise field_error(INVALID, "amount_fen", _("The subsidy must be more than zero."))
    if pool_fen < amount_fen:
        raise field_error(INVALID, "pool_fen", _("The pool must cover at least one subsidy."))
    if closes_at <= opens_at:
        raise field_error(INVALID, "closes_at", _("Applications must close after they open."))
    codes = list(dict.fromkeys(eligible_models))
    known = set(VehicleModel.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown := [code for code in codes if code not in known]:
        raise field_error(
            INVALID, "eligible_models", _("Unknown models: %(codes)s.") % {"codes": ", ".join(unknown)}
        )
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name,
            name_en=name_en,
            description=description[:400],
            description_en=description_en[:600],
            kind=CouponKind.SUBSIDY,
            starts_at=opens_at,
            ends_at=closes_at,
            valid_days=valid_days,
            eligible_models=codes,
            eligible_cities=[city.code] if city is not None else [],
            face_value_fen=amount_fen,
            budget_fen=pool_fen,
            per_person_limit=1,
            exclusive=False,
            on_cancel=OnCancel.RELEASE,
            created_by=actor,
        )
        programme = SubsidyProgramme.objects.create(
            name=name,
            name_en=name_en,
            description=description,
            description_en=description_en,
            sponsor=sponsor,
            city=city,
            campaign=campaign,
            amount_fen=amount_fen,
            opens_at=opens_at,
            closes_at=closes_at,
        )
        event_record(
            "subsidy.programme_created",
            subject_type="subsidy_programme",
            subject_id=programme.public_id,
            actor=actor,
            payload={"campaign": campaign.public_id, "amount_fen": amount_fen, "pool_fen": pool_fen},
        )
        if actor is not None:
            audit_record(
                actor=actor,
                action="subsidy.programme_create",
                object_type="subsidy_programme",
                object_id=programme.public_id,
                details={"amount_fen": amount_fen, "pool_fen": pool_fen},
            )
    return programme


def programme_get(public_id: str) -> SubsidyProgramme:
    programme = (
        SubsidyProgramme.objects.select_related("campaign", "city")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if programme is None:
        raise NotFound(_("No such subsidy programme."))
    return programme


# ---- Applying --------------------------------------------------------------------------------------


def already_applied() -> DomainError:
    return DomainError(
        OfferErrorCode.ALREADY_APPLIED,
        _("There is already an application for this programme with this ID or from this account."),
        status=409,
    )


def _full_name_check(full_name: str) -> str:
    text = unicodedata.normalize("NFKC", full_name or "").strip()
    text = re.sub(r"\s+", " ", text)
    if not _NAME.fullmatch(text):
        raise field_error(INVALID, "full_name", _("Enter the name exactly as on the ID (2–60 characters)."))
    return text


def _certificate_number_check(certificate_number: str) -> str:
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", certificate_number or "")).upper()
    if not _CERTIFICATE_NUMBER.fullmatch(text):
        raise field_error(
            INVALID,
            "certificate_number",
            _("Enter the scrapping certificate number (6–40 letters, digits or dashes)."),
        )
    return text


def _intended_car(
    programme: SubsidyProgramme, model_code: str, trim_code: str
) -> tuple[VehicleModel, Trim | None]:
    model = VehicleModel.objects.filter(code=str(model_code or "")[:40]).first()
    if model is None:
        raise field_error(INVALID, "intended_model_code", _("Choose the car you intend to buy."))
    eligible = programme.campaign.eligible_models
    if eligible and model.code not in eligible:
        raise field_error(
            OfferErrorCode.NOT_ELIGIBLE,
            "intended_model_code",
            _("This model is not covered by the programme."),
        )
    trim = None
    if trim_code:
        trim = Trim.objects.filter(code=str(trim_code)[:40], model=model).first()
        if trim is None:
            raise field_error(INVALID, "intended_trim_code", _("This version does not belong to that model."))
    return model, trim


def _standing(programme: SubsidyProgramme) -> object:
    return SubsidyApplication.objects.filter(
        programme=programme, status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED]
    )


def subsidy_apply(
    *,
    programme: SubsidyProgramme,
    applicant: User,
    full_name: str,
    id_type: str,
    id_number: str,
    scrapped_plate: str,
    certificate_number: str,
    certificate: File | None,
    intended_model_code: str,
    intended_trim_code: str = "",
) -> SubsidyApplication:
    """Apply for a subsidy: 422 naming the bad field; 409 `programme_closed` or `already_applied`."""
    at = clock.now()
    if applicant.role not in HOLDER_ROLES:
        raise DomainError(
            CoreErrorCode.FORBIDDEN,
            _("Subsidies are for customers; staff accounts cannot apply."),
            status=403,
        )
    if not programme_is_open(programme, at):
        raise DomainError(
            OfferErrorCode.PROGRAMME_CLOSED, _("This programme is not taking applications now."), status=409
        )
    name = _full_name_check(full_name)
    number = id_number_normalise(id_type=id_type, id_number=id_number)
    plate = plate_normalise(scrapped_plate)
    certificate_no = _certificate_number_check(certificate_number)
    model, trim = _intended_car(programme, intended_model_code, intended_trim_code)
    content_type, extension = _certificate_check(certificate)
    number_hash = id_number_hash(id_type=id_type, number=number)
    standing = _standing(programme)
    if standing.filter(applicant=applicant).exists() or standing.filter(id_number_hash=number_hash).exists():  # type: ignore[attr-defined]
        raise already_applied()

    application = SubsidyApplication(
        programme=programme,
        applicant=applicant,
        full_name=name,
        id_type=id_type,
        id_number_encrypted=id_number_encrypt(number),
        id_number_hash=number_hash,
        id_number_last4=number[-4:],
        scrapped_plate=plate,
        certificate_number=certificate_no,
        certificate_content_type=content_type,
        intended_model=model,
        intended_trim=trim,
        submitted_at=at,
    )
    # A generated name: never the uploaded one (it may carry personal data), and not guessable.
    wanted = f"subsidy/{programme.public_id}/{application.public_id}-{secrets.token_hex(8)}.{extension}"
    assert certificate is not None
    stored = default_storage.save(wanted, certificate)
    try:
        with transaction.atomic():
            application.certificate.name = stored
            application.save(force_insert=True)
            event_record(
                "subsidy.applied",
                subject_type=SUBJECT_TYPE,
                subject_id=application.public_id,
                actor=applicant,
                payload={
                    "programme": programme.public_id,
                    "applicant": applicant.public_id,
                    "intended_model": model.code,
                },
            )
    except IntegrityError:
        default_storage.delete(stored)
        raise already_applied() from None
    except BaseException:
        default_storage.delete(stored)
        raise
    return application


# ---- Deciding --------------------------------------------------------------------------------------


def pool_exhausted() -> DomainError:
    return DomainError(
        OfferErrorCode.POOL_EXHAUSTED,
        _("The programme's pool cannot cover another subsidy."),
        status=409,
    )


def _already_decided(application: SubsidyApplication) -> DomainError:
    return DomainError(
        OfferErrorCode.ALREADY_DECIDED,
        _("This application is no longer awaiting a decision."),
        status=409,
        details={"status": application.status},
    )


def subsidy_decide(
    *, application: SubsidyApplication, actor: User, approve: bool, reason: str = ""
) -> SubsidyApplication:
    """Approve (issuing the subsidy voucher from the pool) or reject with a reason; ops only.

    409 `already_decided` unless the application is submitted; 409 `pool_exhausted` (the application
    stays submitted) when the pool cannot cover another subsidy.
    """
    _require_ops(actor)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise field_error(INVALID, "reason", _("Give the applicant a reason for the rejection."))
    if len(reason) > 300:
        raise field_error(INVALID, "reason", _("Keep the reason under 300 characters."))
    at = clock.now()
    try:
        with transaction.atomic():
            locked = (
                SubsidyApplication.objects.select_for_update()
                .select_related("programme__campaign", "applicant")
                .get(pk=application.pk)
            )
            if locked.status != ApplicationStatus.SUBMITTED:
                raise _already_decided(locked)
            locked.decided_at = at
            locked.decided_by = actor
            voucher_code = ""
            if approve:
                locked.status = ApplicationStatus.APPROVED
                locked.save(update_fields=["status", "decided_at", "decided_by"])
                voucher = voucher_issue(
                    campaign=locked.programme.campaign,
                    holder=locked.applicant,
                    channel=Channel.WEB,
                    at=at,
                    actor=actor,
                    extra={"application": locked},
                )
                voucher_code = voucher.code
            else:
                locked.status = ApplicationStatus.REJECTED
                locked.reject_reason = reason
                locked.save(update_fields=["status", "decided_at", "decided_by", "reject_reason"])
            name = "subsidy.approved" if approve else "subsidy.rejected"
            payload: dict[str, Any] = {
                "programme": locked.programme.public_id,
                "applicant": locked.applicant.public_id,
            }
            if approve:
                payload |= {"voucher": voucher_code, "amount_fen": locked.programme.amount_fen}
            else:
                payload |= {"reason": reason}
            event_record(
                name, subject_type=SUBJECT_TYPE, subject_id=locked.public_id, actor=actor, payload=payload
            )
            audit_record(
                actor=actor,
                action=name,
                object_type=SUBJECT_TYPE,
                object_id=locked.public_id,
                details={k: v for k, v in payload.items() if k != "applicant"},
            )
    except DomainError as error:
        if error.code == OfferErrorCode.BUDGET_EXHAUSTED:
            raise pool_exhausted() from None
        if error.code == OfferErrorCode.LIMIT_REACHED:
            raise DomainError(
                OfferErrorCode.ALREADY_APPLIED,
                _("This person has already received this subsidy."),
                status=409,
            ) from None
        raise
    application.refresh_from_db()
    return locked


def subsidy_withdraw(*, application: SubsidyApplication, actor: User) -> SubsidyApplication:
    """The applicant withdraws an application still awaiting review; 409 `already_decided` otherwise."""
    if actor is None or application.applicant_id != actor.pk:
        raise NotFound(_("No such application."))
    with transaction.atomic():
        locked = SubsidyApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != ApplicationStatus.SUBMITTED:
            raise _already_decided(locked)
        locked.status = ApplicationStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        event_record(
            "subsidy.withdrawn",
            subject_type=SUBJECT_TYPE,
            subject_id=locked.public_id,
            actor=actor,
            payload={"programme": application.programme.public_id},
        )
    application.refresh_from_db()
    return locked


def application_get(*, public_id: str, viewer: User) -> SubsidyApplication:
    """One application for its applicant or for ops; anyone else gets the same 404 as an unknown id."""
    application = (
        SubsidyApplication.objects.select_related("programme__campaign", "applicant", "intended_model")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if application is None or (viewer.role != Role.OPS and application.applicant_id != viewer.pk):
        raise NotFound(_("No such application."))
    return application
