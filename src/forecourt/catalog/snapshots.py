"""Loading a trim's snapshot for the rule engine, and keeping recent ones in process memory.

The quote endpoint is the hottest read in the catalogue, so its snapshot (the trim, its options, rules
and prices under the current price list) is cached per process. Any catalogue write in this process
clears the cache at once (signals below; publishing a price list clears it on commit); other processes
see a change within settings.CATALOG_CACHE_SECONDS (default 5; off under the test runner unless set).
Saving a configuration always reads fresh data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from forecourt.catalog.configurator import OptionEntry, RuleEntry, TrimSnapshot
from forecourt.catalog.models import (
    Option,
    OptionRule,
    PackageItem,
    PriceList,
    PriceListItem,
    PriceListStatus,
    Trim,
    TrimOption,
    VehicleModel,
)
from forecourt.core.clock import now
from forecourt.core.errors import DomainError, NotFound


def price_list_current(at: datetime | None = None) -> PriceList | None:
    """The published price list in effect at `at` (default: now), or None before the first one."""
    moment = at or now()
    return (
        PriceList.objects.filter(
            status__in=[PriceListStatus.PUBLISHED, PriceListStatus.RETIRED], effective_from__lte=moment
        )
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=moment))
        .order_by("-effective_from", "-version")
        .first()
    )


def price_list_required(at: datetime | None = None) -> PriceList:
    price_list = price_list_current(at)
    if price_list is None:
        raise DomainError("no_price_list", _("No price list is in effect yet."), status=409)
    return price_list


def trim_get(code: str) -> Trim:
    """An on-sale trim (of an on-sale model) by its code; NotFound otherwise."""
    trim = (
        Trim.objects.select_related("model").filter(code=code, is_active=True, model__is_active=True).first()
    )
    if trim is None:
        raise NotFound(_("There is no trim with the code “%(code)s”.") % {"code": code})
    return trim


def catalogue_names() -> dict[str, tuple[str, str]]:
    return {
        code: (name, name_en) for code, name, name_en in Option.objects.values_list("code", "name", "name_en")
    }


def trim_snapshot(
    trim_code: str, *, price_list: PriceList, names: dict[str, tuple[str, str]] | None = None
) -> TrimSnapshot:
    """Load one trim's options, rules and prices under `price_list` in a handful of queries."""
    trim = trim_get(trim_code)
    prices: dict[tuple[str, Any], int] = {}
    item_rows = PriceListItem.objects.filter(price_list=price_list).filter(
        Q(trim=trim) | Q(option__trim_options__trim=trim)
    )
    for trim_id, option_code, price_fen in item_rows.values_list("trim_id", "option__code", "price_fen"):
        prices[("trim", trim_id) if trim_id else ("option", option_code)] = price_fen
    base_price = prices.get(("trim", trim.pk))
    if base_price is None:
        raise DomainError(
            "not_on_sale",
            _("%(trim)s has no price in price list v%(version)s.")
            % {"trim": trim.display_name, "version": price_list.version},
            status=409,
        )
    includes: dict[str, list[str]] = {}
    members = PackageItem.objects.filter(package__trim_options__trim=trim).order_by(
        "package__code", "option__position", "option__code"
    )
    for package_code, option_code in members.values_list("package__code", "option__code"):
        includes.setdefault(package_code, []).append(option_code)
    entries = []
    for row in (
        TrimOption.objects.filter(trim=trim)
        .select_related("option")
        .order_by("option__position", "option__code")
    ):
        option = row.option
        entries.append(
            OptionEntry(
                code=option.code,
                kind=option.kind,
                name=option.name,
                name_en=option.name_en,
                availability=row.availability,
                price_fen=prices.get(("option", option.code)),
                includes=tuple(includes.get(option.code, ())),
                swatch_hex=option.swatch_hex,
                description=option.description,
                description_en=option.description_en,
            )
        )
    rules = (
        OptionRule.objects.filter(Q(option__trim_options__trim=trim) | Q(other__trim_options__trim=trim))
        .order_by("option__code", "kind", "other__code")
        .values_list("kind", "option__code", "other__code")
        .distinct()
    )
    return TrimSnapshot(
        trim_code=trim.code,
        trim_name=f"{trim.model.name} {trim.name}",
        trim_name_en=f"{trim.model.name_en} {trim.name_en}".strip() if trim.name_en else "",
        base_price_fen=base_price,
        price_list_version=price_list.version,
        options=tuple(entries),
        rules=tuple(RuleEntry(kind, option, other) for kind, option, other in rules),
        catalogue=names if names is not None else catalogue_names(),
    )


def _cache_seconds() -> float:
    configured = getattr(settings, "CATALOG_CACHE_SECONDS", None)
    if configured is not None:
        return float(configured)
    # Under Django's test environment (it creates mail.outbox) a rolled-back test sends no signal,
    # so the next test could read the previous one's catalogue: there the cache is off by default.
    return 0.0 if hasattr(mail, "outbox") else 5.0


@dataclass
class _CacheState:
    expires: float = 0.0
    price_list: PriceList | None = None
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    snapshots: dict[str, TrimSnapshot] = field(default_factory=dict)
    # Other derived reads of the catalogue (a model page's data, its rendered body…), by key.
    memo: dict[Hashable, Any] = field(default_factory=dict)


_state = _CacheState()
_lock = threading.Lock()


def _current_state() -> _CacheState:
    global _state
    state = _state
    if state.expires <= time.monotonic():
        with _lock:
            if _state.expires <= time.monotonic():
                _state = _CacheState(
                    expires=time.monotonic() + _cache_seconds(),
                    price_list=price_list_current(),
                    names=catalogue_names(),
                )
            state = _state
    return state


def trim_snapshot_cached(trim_code: str) -> TrimSnapshot:
    """The current snapshot of a trim, from process memory when it is recent enough."""
    state = _current_state()
    snapshot = state.snapshots.get(trim_code)
    if snapshot is None:
        if state.price_list is None:
            price_list_required()  # raises the clear "no price list" error
        assert state.price_list is not None
        snapshot = trim_snapshot(trim_code, price_list=state.price_list, names=state.names)
        state.snapshots[trim_code] = snapshot
    return snapshot


def catalog_memo[T](key: Hashable, load: Callable[[], T]) -> T:
    """`load()` once per cache lifetime for `key` (exceptions are not remembered)."""
    state = _current_state()
    try:
        return cast(T, state.memo[key])
    except KeyError:
        value = state.memo[key] = load()
        return value


def catalog_cache_clear() -> None:
    """Forget cached snapshots (after a publish, a catalogue edit, or between tests)."""
    global _state
    _state = _CacheState()


def _on_catalogue_write(sender: Any, **kwargs: Any) -> None:
    # Now for this request, and again after commit so a reader in between cannot keep the old rows.
    catalog_cache_clear()
    transaction.on_commit(catalog_cache_clear)


def connect_cache_invalidation() -> None:
    for model in (VehicleModel, Trim, Option, PackageItem, TrimOption, OptionRule, PriceList, PriceListItem):
        post_save.connect(
            _on_catalogue_write, sender=model, dispatch_uid=f"catalog-cache-{model.__name__}-save"
        )
        post_delete.connect(
            _on_catalogue_write, sender=model, dispatch_uid=f"catalog-cache-{model.__name__}-delete"
        )
