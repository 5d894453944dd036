"""The catalogue: models, trims, options and their rules, the national price list, saved configurations."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from forecourt.catalog.language import in_language

HEX_COLOUR = RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Enter a colour as #RRGGBB."))


class BodyType(models.TextChoices):
    SEDAN = "sedan", _("Sedan")
    SUV = "suv", _("SUV")
    MPV = "mpv", _("MPV")


class Powertrain(models.TextChoices):
    BEV = "bev", _("Battery electric")
    PHEV = "phev", _("Plug-in hybrid")
    ICE = "ice", _("Petrol")


class Drive(models.TextChoices):
    FWD = "fwd", _("Front-wheel drive")
    RWD = "rwd", _("Rear-wheel drive")
    AWD = "awd", _("All-wheel drive")


class OptionKind(models.TextChoices):
    PAINT = "paint", _("Paint")
    INTERIOR = "interior", _("Interior")
    WHEELS = "wheels", _("Wheels")
    OPTION = "option", _("Option")
    PACKAGE = "package", _("Package")


# A buyer chooses exactly one of each of these kinds; the others are free multiple choices.
CHOICE_GROUP_KINDS = (OptionKind.PAINT, OptionKind.INTERIOR, OptionKind.WHEELS)


class Availability(models.TextChoices):
    STANDARD = "standard", _("Standard")
    OPTIONAL = "optional", _("Optional")
    UNAVAILABLE = "unavailable", _("Unavailable")


class VehicleModel(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    body_type = models.CharField(_("body type"), max_length=10, choices=BodyType.choices)
    powertrain = models.CharField(_("powertrain"), max_length=10, choices=Powertrain.choices)
    tagline = models.CharField(_("tagline"), max_length=120, blank=True)
    tagline_en = models.CharField(_("English tagline"), max_length=160, blank=True)
    # The model page's hero is a gradient between these two colours (no photography in the demo).
    hero_colour = models.CharField(_("hero colour"), max_length=7, default="#1F3A5F", validators=[HEX_COLOUR])
    hero_colour_end = models.CharField(
        _("hero gradient end"), max_length=7, default="#6FA3D8", validators=[HEX_COLOUR]
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("on sale"), default=True)
    # Ordering limited units is a later issue; for now the flag and the count are shown.
    is_limited_edition = models.BooleanField(_("limited edition"), default=False)
    limited_units = models.PositiveIntegerField(_("limited units"), null=True, blank=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("vehicle model")
        verbose_name_plural = _("vehicle models")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_limited_edition=False, limited_units__isnull=True)
                | models.Q(is_limited_edition=True, limited_units__gt=0),
                name="vehicle_model_limited_units_iff_limited",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def display_tagline(self) -> str:
        return in_language(self.tagline, self.tagline_en)


class Trim(models.Model):
    model = models.ForeignKey(VehicleModel, on_delete=models.PROTECT, related_name="trims")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("on sale"), default=True)
    is_limited_edition = models.BooleanField(_("limited edition"), default=False)
    limited_units = models.PositiveIntegerField(_("limited units"), null=True, blank=True)
    # Specs for comparison. Electric range is CLTC; a PHEV has both an electric range and a fuel use.
    range_km = models.PositiveIntegerField(_("range (km, CLTC)"), null=True, blank=True)
    fuel_l_per_100km_tenths = models.PositiveIntegerField(
        _("fuel use (tenths of a litre per 100 km)"), null=True, blank=True
    )
    power_kw = models.PositiveIntegerField(_("power (kW)"))
    torque_nm = models.PositiveIntegerField(_("torque (N·m)"))
    seats = models.PositiveSmallIntegerField(
        _("seats"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    length_mm = models.PositiveIntegerField(_("length (mm)"))
    width_mm = models.PositiveIntegerField(_("width (mm)"))
    height_mm = models.PositiveIntegerField(_("height (mm)"))
    wheelbase_mm = models.PositiveIntegerField(_("wheelbase (mm)"))
    # Tenths of a second so 0–100 km/h in 5.9 s is stored exactly as 59.
    acceleration_0_100_tenths = models.PositiveIntegerField(_("0–100 km/h (tenths of a second)"))
    drive = models.CharField(_("drive"), max_length=5, choices=Drive.choices)

    class Meta:
        ordering = ["model__position", "model__code", "position", "code"]
        verbose_name = _("trim")
        verbose_name_plural = _("trims")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(range_km__isnull=False) | models.Q(fuel_l_per_100km_tenths__isnull=False),
                name="trim_has_range_or_fuel_use",
            ),
            models.CheckConstraint(
                condition=models.Q(is_limited_edition=False, limited_units__isnull=True)
                | models.Q(is_limited_edition=True, limited_units__gt=0),
                name="trim_limited_units_iff_limited",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} {self.name}"

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def specs(self) -> dict[str, int | str | None]:
        return {
            "range_km": self.range_km,
            "fuel_l_per_100km_tenths": self.fuel_l_per_100km_tenths,
            "power_kw": self.power_kw,
            "torque_nm": self.torque_nm,
            "seats": self.seats,
            "length_mm": self.length_mm,
            "width_mm": self.width_mm,
            "height_mm": self.height_mm,
            "wheelbase_mm": self.wheelbase_mm,
            "acceleration_0_100_tenths": self.acceleration_0_100_tenths,
            "drive": self.drive,
        }


class Option(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=OptionKind.choices)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    description = models.CharField(_("description"), max_length=240, blank=True)
    description_en = models.CharField(_("English description"), max_length=320, blank=True)
    swatch_hex = models.CharField(_("swatch colour"), max_length=7, blank=True, validators=[HEX_COLOUR])
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="paint") | models.Q(swatch_hex=""),
                name="option_swatch_only_for_paint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def display_description(self) -> str:
        return in_language(self.description, self.description_en)


class PackageItem(models.Model):
    """An option that a package includes: choosing the package fits it at no extra cost."""

    package = models.ForeignKey(
        Option, on_delete=models.CASCADE, related_name="package_items", limit_choices_to={"kind": "package"}
    )
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="included_in")

    class Meta:
        ordering = ["package", "option__position", "option__code"]
        verbose_name = _("package item")
        verbose_name_plural = _("package items")
        constraints = [
            models.UniqueConstraint(fields=["package", "option"], name="package_item_once"),
            models.CheckConstraint(
                condition=~models.Q(package=models.F("option")), name="package_not_in_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package.code} ⊃ {self.option.code}"


class TrimOption(models.Model):
    """Whether an option is standard, optional or unavailable on one trim; unlisted means unavailable."""

    trim = models.ForeignKey(Trim, on_delete=models.CASCADE, related_name="trim_options")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="trim_options")
    availability = models.CharField(_("availability"), max_length=12, choices=Availability.choices)

    class Meta:
        ordering = ["trim", "option__position", "option__code"]
        verbose_name = _("option on a trim")
        verbose_name_plural = _("options on trims")
        constraints = [models.UniqueConstraint(fields=["trim", "option"], name="trim_option_once")]

    def __str__(self) -> str:
        return f"{self.trim.code}: {self.option.code} {self.availability}"


class RuleKind(models.TextChoices):
    REQUIRES = "requires", _("requires")
    EXCLUDES = "excludes", _("excludes")


class OptionRule(models.Model):
    """Option A requires option B, or A excludes B (exclusion works both ways)."""

    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("rule"), max_length=10, choices=RuleKind.choices)
    other = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="rules_as_other")

    class Meta:
        ordering = ["option__code", "kind", "other__code"]
        verbose_name = _("option rule")
        verbose_name_plural = _("option rules")
        constraints = [
            models.UniqueConstraint(fields=["option", "kind", "other"], name="option_rule_once"),
            models.CheckConstraint(
                condition=~models.Q(option=models.F("other")), name="option_rule_not_reflexive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.option.code} {self.kind} {self.other.code}"


class PriceListStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class PriceList(models.Model):
    """One national price list: the price shown online is the price at every dealer."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(_("status"), max_length=10, choices=PriceListStatus.choices, default="draft")
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    # Set when the next list is published; open (null) while this one is current.
    effective_to = models.DateTimeField(_("effective to"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            # At most one list is in effect; publishing retires the previous one in the same transaction.
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="published"), name="one_published_price_list"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", effective_from__isnull=True, published_at__isnull=True)
                | models.Q(
                    status__in=["published", "retired"],
                    effective_from__isnull=False,
                    published_at__isnull=False,
                ),
                name="price_list_published_has_dates",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="price_list_effective_period_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(effective_to__isnull=True),
                name="price_list_current_is_open",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"

    @property
    def is_draft(self) -> bool:
        return self.status == PriceListStatus.DRAFT


class PriceListItem(models.Model):
    """The price of one trim (its base price) or one option in one price list, in fen."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    trim = models.ForeignKey(Trim, null=True, blank=True, on_delete=models.PROTECT, related_name="prices")
    option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.PROTECT, related_name="prices")
    price_fen = models.BigIntegerField(_("price (fen)"), validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["price_list", "trim", "option"]
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.CheckConstraint(condition=models.Q(price_fen__gte=0), name="price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(trim__isnull=False, option__isnull=True)
                | models.Q(trim__isnull=True, option__isnull=False),
                name="price_for_a_trim_or_an_option",
            ),
            models.UniqueConstraint(
                fields=["price_list", "trim"],
                condition=models.Q(trim__isnull=False),
                name="one_price_per_trim",
            ),
            models.UniqueConstraint(
                fields=["price_list", "option"],
                condition=models.Q(option__isnull=False),
                name="one_price_per_option",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.price_list.version} {self.subject_code} {self.price_fen}"

    @property
    def subject_code(self) -> str:
        """The code of what is priced: the trim's or the option's."""
        if self.trim is not None:
            return self.trim.code
        return self.option.code if self.option is not None else ""


class SavedConfiguration(models.Model):
    """A quote as it was given: lines and total never change when prices do."""

    share_code = models.CharField(max_length=16, unique=True)
    trim = models.ForeignKey(Trim, on_delete=models.PROTECT, related_name="saved_configurations")
    # The chosen option codes, sorted; standard and package-included items are in `lines`, not here.
    option_codes = models.JSONField(default=list)
    # [{"code", "name", "name_en", "kind", "price_fen"}, ...] exactly as quoted.
    lines = models.JSONField(default=list)
    total_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    price_list_version = models.PositiveIntegerField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="saved_configurations",
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("saved configuration")
        verbose_name_plural = _("saved configurations")
        constraints = [
            models.CheckConstraint(condition=models.Q(total_fen__gte=0), name="saved_total_not_negative")
        ]

    def __str__(self) -> str:
        return self.share_code
