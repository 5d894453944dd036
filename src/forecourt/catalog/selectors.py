"""Reads of the catalogue: what other apps, the API and the pages call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, Prefetch, Q
from django.utils.translation import gettext as _

from forecourt.catalog.configurator import CHOICE_GROUPS, Quote, TrimSnapshot, quote, quote_from_record
from forecourt.catalog.models import (
    Option,
    OptionRule,
    PackageItem,
    PriceList,
    PriceListItem,
    SavedConfiguration,
    Trim,
    TrimOption,
    VehicleModel,
)
from forecourt.catalog.snapshots import (
    catalog_memo,
    price_list_current,
    price_list_required,
    trim_get,
    trim_snapshot,
    trim_snapshot_cached,
)
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.identifiers import normalise_code
from forecourt.core.money import Money

__all__ = [
    "ModelCard",
    "ModelDetail",
    "SavedQuoteView",
    "TrimOffer",
    "configuration_get",
    "configuration_quote",
    "configuration_view",
    "model_detail",
    "models_for_home",
    "price_list_current",
    "saved_quote",
    "trim_get",
    "trim_snapshot_for",
    "trims_compare",
    "trims_for_picker",
]

MAX_COMPARED_TRIMS = 3


def configuration_quote(*, trim_code: str, option_codes: Sequence[str], at: datetime | None = None) -> Quote:
    """Check and price a configuration under the price list in effect at `at` (default: now)."""
    return quote(trim_snapshot_for(trim_code, at=at), option_codes)


def trim_snapshot_for(trim_code: str, *, at: datetime | None = None, fresh: bool = False) -> TrimSnapshot:
    """The engine's view of a trim: cached for "now", loaded fresh for another moment or when asked."""
    if at is None and not fresh:
        return trim_snapshot_cached(trim_code)
    return trim_snapshot(trim_code, price_list=price_list_required(at))


@dataclass(frozen=True)
class ModelCard:
    """A model as the home page and the model list show it."""

    model: VehicleModel
    from_price: Money | None
    trim_count: int

    @property
    def code(self) -> str:
        return self.model.code

    @property
    def name(self) -> str:
        return self.model.display_name


def models_for_home() -> list[ModelCard]:
    """Models on sale, each with its lowest current trim price ("from ¥…"); cached like quotes."""
    return list(catalog_memo("models-for-home", _models_for_home))


def _models_for_home() -> tuple[ModelCard, ...]:
    price_list = price_list_current()
    models = list(VehicleModel.objects.filter(is_active=True).order_by("position", "code"))
    from_prices: dict[int, int] = {}
    counts: dict[int, int] = {}
    for trim in Trim.objects.filter(model__in=models, is_active=True).values("model_id"):
        counts[trim["model_id"]] = counts.get(trim["model_id"], 0) + 1
    if price_list is not None:
        rows = (
            PriceListItem.objects.filter(price_list=price_list, trim__is_active=True, trim__model__in=models)
            .values("trim__model_id")
            .annotate(lowest=Min("price_fen"))
        )
        from_prices = {row["trim__model_id"]: row["lowest"] for row in rows}
    return tuple(
        ModelCard(
            model=model,
            from_price=Money(from_prices[model.pk]) if model.pk in from_prices else None,
            trim_count=counts.get(model.pk, 0),
        )
        for model in models
        if counts.get(model.pk)
    )


@dataclass(frozen=True)
class OptionOffer:
    option: Option
    availability: str
    # What choosing it adds: zero when standard, the list price when optional, None when not priced.
    price: Money | None
    includes: tuple[str, ...]


@dataclass(frozen=True)
class TrimOffer:
    trim: Trim
    price: Money | None
    offers: tuple[OptionOffer, ...]

    @property
    def specs(self) -> dict[str, int | str | None]:
        return self.trim.specs

    @property
    def defaults(self) -> list[str]:
        """A valid starting point: the first no-cost paint, interior and wheels (else the first offered)."""
        chosen = []
        for kind in CHOICE_GROUPS:
            offered = [o for o in self.offers if o.option.kind == kind and o.price is not None]
            standard = [o for o in offered if o.availability == "standard"]
            if offered:
                chosen.append((standard or offered)[0].option.code)
        return chosen


@dataclass(frozen=True)
class ModelDetail:
    model: VehicleModel
    price_list: PriceList | None
    trims: tuple[TrimOffer, ...]
    options: tuple[Option, ...]
    includes: dict[str, tuple[str, ...]]
    option_prices: dict[str, Money]
    rules: tuple[tuple[str, str, str], ...]

    @property
    def from_price(self) -> Money | None:
        prices = [offer.price for offer in self.trims if offer.price is not None]
        return min(prices, key=lambda money: money.amount) if prices else None


def model_detail(code: str) -> ModelDetail:
    """A model on sale with its trims, options, rules and current prices; NotFound otherwise (cached)."""
    return catalog_memo(("model-detail", code), lambda: _model_detail(code))


def _model_detail(code: str) -> ModelDetail:
    model = VehicleModel.objects.filter(code=code, is_active=True).first()
    if model is None:
        raise NotFound(_("There is no model with the code “%(code)s”.") % {"code": code})
    price_list = price_list_current()
    trims = list(
        Trim.objects.filter(model=model, is_active=True)
        .select_related("model")
        .prefetch_related(
            Prefetch(
                "trim_options",
                queryset=TrimOption.objects.select_related("option").order_by(
                    "option__position", "option__code"
                ),
            )
        )
        .order_by("position", "code")
    )
    option_ids = {row.option_id for trim in trims for row in trim.trim_options.all()}
    options = tuple(Option.objects.filter(pk__in=option_ids).order_by("position", "code"))
    trim_prices: dict[int, Money] = {}
    option_prices: dict[str, Money] = {}
    if price_list is not None:
        rows = PriceListItem.objects.filter(price_list=price_list).filter(
            Q(trim__in=trims) | Q(option_id__in=option_ids)
        )
        for trim_id, option_code, price_fen in rows.values_list("trim_id", "option__code", "price_fen"):
            if trim_id:
                trim_prices[trim_id] = Money(price_fen)
            else:
                option_prices[option_code] = Money(price_fen)
    includes: dict[str, list[str]] = {}
    for package_code, option_code in (
        PackageItem.objects.filter(package_id__in=option_ids)
        .order_by("option__position", "option__code")
        .values_list("package__code", "option__code")
    ):
        includes.setdefault(package_code, []).append(option_code)
    rules = tuple(
        OptionRule.objects.filter(option_id__in=option_ids)
        .order_by("option__code", "kind", "other__code")
        .values_list("kind", "option__code", "other__code")
    )
    offers = []
    for trim in trims:
        trim_offers = []
        for row in trim.trim_options.all():
            if row.availability == "standard":
                price: Money | None = Money.zero()
            elif row.availability == "optional":
                price = option_prices.get(row.option.code)
            else:
                price = None
            trim_offers.append(
                OptionOffer(row.option, row.availability, price, tuple(includes.get(row.option.code, ())))
            )
        offers.append(TrimOffer(trim=trim, price=trim_prices.get(trim.pk), offers=tuple(trim_offers)))
    return ModelDetail(
        model=model,
        price_list=price_list,
        trims=tuple(offers),
        options=options,
        includes={code: tuple(members) for code, members in includes.items()},
        option_prices=option_prices,
        rules=rules,
    )


def trims_compare(codes: Sequence[str]) -> list[TrimOffer]:
    """Two or three on-sale trims side by side, in the order asked, with their current prices."""
    unique = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    if not 2 <= len(unique) <= MAX_COMPARED_TRIMS:
        message = _("Choose two or three different trims to compare.")
        raise DomainError("invalid", message, status=422, details=[{"field": "trims", "message": message}])
    trims = {trim.code: trim for trim in Trim.objects.select_related("model").filter(code__in=unique)}
    missing = [code for code in unique if code not in trims or not _on_sale(trims[code])]
    if missing:
        raise NotFound(
            _("There is no trim with the code “%(code)s”.") % {"code": missing[0]}, details={"trims": missing}
        )
    price_list = price_list_current()
    prices: dict[int, Money] = {}
    if price_list is not None:
        prices = {
            trim_id: Money(price_fen)
            for trim_id, price_fen in PriceListItem.objects.filter(
                price_list=price_list, trim__in=trims.values()
            ).values_list("trim_id", "price_fen")
        }
    return [TrimOffer(trim=trims[code], price=prices.get(trims[code].pk), offers=()) for code in unique]


def _on_sale(trim: Trim) -> bool:
    return trim.is_active and trim.model.is_active


def trims_for_picker() -> list[Trim]:
    """Every on-sale trim, grouped by model, for the comparison page's pickers (cached like quotes)."""
    return list(catalog_memo("trims-for-picker", _trims_for_picker))


def _trims_for_picker() -> tuple[Trim, ...]:
    return tuple(Trim.objects.filter(is_active=True, model__is_active=True).select_related("model"))


def configuration_get(share_code: str) -> SavedConfiguration:
    """A saved configuration by its share code (case, spaces and dashes do not matter); NotFound otherwise."""
    configuration = (
        SavedConfiguration.objects.select_related("trim", "trim__model")
        .filter(share_code=normalise_code(share_code)[:16])
        .first()
    )
    if configuration is None:
        raise NotFound(_("There is no saved configuration with that code."))
    return configuration


@dataclass(frozen=True)
class SavedQuoteView:
    """A saved quote as it was given and, when prices changed since, the quote it would get now."""

    configuration: SavedConfiguration
    saved: Quote
    # None when nothing changed; a quote (possibly invalid) when today's answer differs.
    current: Quote | None
    # True when the trim is no longer on sale, so no current quote can be given.
    no_longer_offered: bool = False

    @property
    def trim_name(self) -> str:
        trim = self.configuration.trim
        return f"{trim.model.display_name} {trim.display_name}"


def saved_quote(configuration: SavedConfiguration) -> Quote:
    return quote_from_record(
        trim_code=configuration.trim.code,
        option_codes=configuration.option_codes,
        lines=configuration.lines,
        total_fen=configuration.total_fen,
        price_list_version=configuration.price_list_version,
        currency=configuration.currency,
    )


def configuration_view(*, share_code: str) -> SavedQuoteView:
    """The saved quote beside today's quote for the same choices when prices (or rules) changed since."""
    configuration = configuration_get(share_code)
    saved = saved_quote(configuration)
    current_list = price_list_current()
    if current_list is None or current_list.version == configuration.price_list_version:
        return SavedQuoteView(configuration=configuration, saved=saved, current=None)
    try:
        current = configuration_quote(
            trim_code=configuration.trim.code, option_codes=configuration.option_codes
        )
    except DomainError:
        return SavedQuoteView(configuration=configuration, saved=saved, current=None, no_longer_offered=True)
    unchanged = (
        current.valid
        and current.total == saved.total
        and [(line.code, line.price) for line in current.lines]
        == [(line.code, line.price) for line in saved.lines]
    )
    return SavedQuoteView(configuration=configuration, saved=saved, current=None if unchanged else current)
