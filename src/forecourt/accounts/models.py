"""People and how they prove who they are: users, SMS codes, API tokens, consents and the SMS outbox.

PIPL: no model here has a plain phone number column. A number is kept as a keyed hash (to find the
person) beside a ciphertext (to show it to someone allowed to see it), and is masked everywhere else.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from forecourt.core.identifiers import public_id
from forecourt.core.phones import decrypt_phone, mask_phone


class Role(models.TextChoices):
    CONSUMER = "consumer", _("Consumer")
    SALES_ADVISOR = "sales_advisor", _("Sales advisor")
    SERVICE_ADVISOR = "service_advisor", _("Service advisor")
    DEALER_MANAGER = "dealer_manager", _("Dealer manager")
    BROKER = "broker", _("Broker")
    OPS = "ops", _("OEM operations")
    PARTNER = "partner", _("Partner")


DEALER_ROLES = frozenset({Role.SALES_ADVISOR, Role.SERVICE_ADVISOR, Role.DEALER_MANAGER})


def user_public_id() -> str:
    return public_id("usr")


def api_token_public_id() -> str:
    return public_id("tok")


class User(AbstractUser):
    # The id the API and pages show; the sequential primary key never leaves the database.
    public_id = models.CharField(max_length=32, unique=True, default=user_public_id, editable=False)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CONSUMER)
    # Dealer staff are bound to exactly one dealer; everyone else to none.
    dealer = models.ForeignKey(
        "dealers.Dealer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("dealer"),
    )
    display_name = models.CharField(_("name"), max_length=60, blank=True)
    # PIPL: a keyed hash to find the person and a ciphertext to show the number; never a plain column.
    phone_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    phone_encrypted = models.TextField(blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["sales_advisor", "service_advisor", "dealer_manager"])
                | models.Q(dealer__isnull=False),
                name="dealer_staff_bound_to_a_dealer",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["sales_advisor", "service_advisor", "dealer_manager"])
                | models.Q(dealer__isnull=True),
                name="only_dealer_staff_have_a_dealer",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_dealer_staff(self) -> bool:
        return self.role in DEALER_ROLES

    @property
    def is_consumer(self) -> bool:
        return self.role == Role.CONSUMER

    @property
    def masked_phone(self) -> str:
        return mask_phone(decrypt_phone(self.phone_encrypted)) if self.phone_encrypted else ""


class SmsCodePurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign in")


class SmsCode(models.Model):
    """A one-time sign-in code sent by SMS; only a keyed hash of the code is kept."""

    # Rules of the code (also shown to people): 6 digits, valid 5 minutes, at most 5 tries.
    LENGTH = 6
    VALID_SECONDS = 300
    MAX_ATTEMPTS = 5

    phone_hash = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=20, choices=SmsCodePurpose.choices, default=SmsCodePurpose.SIGN_IN)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Every try counts, the right one included; the code is dead once attempts reaches MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer code for the same number replaces this one before it was used.
    superseded_at = models.DateTimeField(null=True, blank=True)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        indexes = [models.Index(fields=["phone_hash", "purpose", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(attempts__lte=5), name="sms_code_at_most_five_attempts"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="sms_code_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M:%S}"


class SmsCodeGate(models.Model):
    """One row per number, locked while a code is issued, so the resend rules are checked atomically."""

    phone_hash = models.CharField(max_length=64, unique=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # Codes sent on `day` (a calendar day in Asia/Shanghai); the daily limit counts these.
    day = models.DateField(null=True, blank=True)
    day_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("SMS code gate")
        verbose_name_plural = _("SMS code gates")

    def __str__(self) -> str:
        return f"{self.phone_hash[:12]}… {self.day} ×{self.day_count}"


class SignInFailure(models.Model):
    """A failed sign-in, kept briefly to throttle guessing per account and per IP address."""

    class Kind(models.TextChoices):
        PASSWORD = "password", _("Password")
        SMS_CODE = "sms_code", _("SMS code")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # A keyed hash of the username or phone number: a mistyped phone in the username field stays private.
    subject_hash = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [models.Index(fields=["subject_hash", "at"]), models.Index(fields=["ip_address", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored, the token itself is shown once."""

    VALID_DAYS = 30

    public_id = models.CharField(max_length=32, unique=True, default=api_token_public_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ConsentPurpose(models.TextChoices):
    ACCOUNT_TERMS = "account_terms", _("Account terms and privacy notice")
    MARKETING = "marketing", _("Marketing messages")
    SHARE_WITH_DEALER = "share_with_dealer", _("Sharing my details with a dealer")


class ConsentMethod(models.TextChoices):
    WEB = "web", _("On the website")
    API = "api", _("Through the app or API")
    SMS = "sms", _("By text message")
    IN_STORE = "in_store", _("In a store")
    # Only ever a withdrawal method: the person agreed to a newer version of the text.
    REPLACED = "replaced", _("Replaced by a newer version")


class Consent(models.Model):
    """One grant of consent to one purpose, under one version of the text; withdrawal is recorded on it.

    A person's current state for a purpose is their latest record. Records are never deleted.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    text_version = models.CharField(max_length=40)
    granted_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_method = models.CharField(max_length=10, choices=ConsentMethod.choices, blank=True)
    withdrawal_ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose", "-granted_at"])]
        constraints = [
            # At most one standing consent per person and purpose.
            models.UniqueConstraint(
                fields=["user", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_purpose",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | ~models.Q(withdrawal_method=""),
                name="consent_withdrawal_has_method",
            ),
            models.CheckConstraint(
                condition=~models.Q(method="replaced"), name="consent_not_granted_by_replacement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.text_version}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class OutboxMessage(models.Model):
    """A text message as the local sender 'sent' it: readable in the demo outbox, never a plain number."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    phone_encrypted = models.TextField()
    phone_masked = models.CharField(max_length=20)
    text = models.TextField()
    purpose = models.CharField(max_length=40)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone_masked} {self.purpose}"
