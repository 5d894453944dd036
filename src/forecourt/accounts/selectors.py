"""Reads of the accounts app: people, their consents and the SMS outbox."""

from dataclasses import dataclass

from django.db.models import QuerySet

from forecourt.accounts.consent_texts import consent_current_version
from forecourt.accounts.models import Consent, ConsentPurpose, OutboxMessage, User
from forecourt.core.phones import normalise_mainland_mobile, phone_hash


def user_get_by_public_id(*, public_id: str) -> User | None:
    return User.objects.filter(public_id=public_id).select_related("dealer").first()


def user_find_by_phone(*, phone: str) -> User | None:
    """The person registered with this mobile number (any spelling), if any; raises InvalidPhone."""
    return User.objects.filter(phone_hash=phone_hash(normalise_mainland_mobile(phone))).first()


def consent_latest(*, user: User, purpose: str) -> Consent | None:
    """The person's latest record for `purpose`: it alone says whether they consent now."""
    return Consent.objects.filter(user=user, purpose=purpose).order_by("-granted_at", "-id").first()


def consent_is_active(*, user: User, purpose: str) -> bool:
    """Whether `user` consents to `purpose` now (their latest record for it is not withdrawn)."""
    if user.pk is None:
        return False
    latest = consent_latest(user=user, purpose=purpose)
    return latest is not None and latest.withdrawn_at is None


def consent_history(*, user: User, purpose: str | None = None) -> QuerySet[Consent]:
    records = Consent.objects.filter(user=user)
    if purpose is not None:
        records = records.filter(purpose=purpose)
    return records.order_by("-granted_at", "-id")


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    label: str
    current_version: str
    latest: Consent | None
    history: list[Consent]

    @property
    def is_active(self) -> bool:
        return self.latest is not None and self.latest.withdrawn_at is None

    @property
    def is_current_version(self) -> bool:
        return self.latest is not None and self.latest.text_version == self.current_version


def consent_states(*, user: User) -> list[ConsentState]:
    """One entry per purpose, in a fixed order, with the latest record and the full history."""
    by_purpose: dict[str, list[Consent]] = {purpose: [] for purpose in ConsentPurpose.values}
    for record in consent_history(user=user):
        by_purpose[record.purpose].append(record)
    return [
        ConsentState(
            purpose=purpose,
            label=str(ConsentPurpose(purpose).label),
            current_version=consent_current_version(purpose),
            latest=records[0] if records else None,
            history=records,
        )
        for purpose, records in by_purpose.items()
    ]


def outbox_recent(*, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages in the local outbox, newest first."""
    return list(OutboxMessage.objects.order_by("-created_at", "-id")[: max(0, limit)])
