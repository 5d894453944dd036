"""Writes to the catalogue: publishing price lists, drafting new ones, saving configurations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from forecourt.catalog.configurator import quote
from forecourt.catalog.models import (
    Availability,
    PriceList,
    PriceListItem,
    PriceListStatus,
    SavedConfiguration,
    Trim,
    TrimOption,
)
from forecourt.catalog.selectors import trim_snapshot_for
from forecourt.catalog.snapshots import catalog_cache_clear
from forecourt.core.audit import audit_record
from forecourt.core.clock import now
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.events import event_record
from forecourt.core.identifiers import share_code

SHARE_CODE_ATTEMPTS = 5


class CatalogErrorCode:
    INVALID_CONFIGURATION = "invalid_configuration"
    PRICE_LIST_INCOMPLETE = "price_list_incomplete"
    PRICE_LIST_NOT_DRAFT = "price_list_not_draft"


def price_list_missing_prices(price_list: PriceList) -> dict[str, list[str]]:
    """Codes of on-sale trims and of options optional on an on-sale trim that the list has no price for."""
    priced_trims = set(price_list.items.filter(trim__isnull=False).values_list("trim_id", flat=True))
    priced_options = set(price_list.items.filter(option__isnull=False).values_list("option_id", flat=True))
    on_sale = Q(trim__is_active=True, trim__model__is_active=True)
    trims = (
        Trim.objects.filter(is_active=True, model__is_active=True)
        .exclude(pk__in=priced_trims)
        .order_by("code")
        .values_list("code", flat=True)
    )
    options = (
        TrimOption.objects.filter(on_sale, availability=Availability.OPTIONAL)
        .exclude(option_id__in=priced_options)
        .order_by("option__code")
        .values_list("option__code", flat=True)
        .distinct()
    )
    return {"trims": list(trims), "options": list(options)}


def price_list_publish(*, price_list: PriceList, actor: Any) -> PriceList:
    """Put a draft price list into effect now, closing the current one; audited and recorded."""
    with transaction.atomic():
        # Lock every list that is not yet history, in primary-key order, so two publishers queue.
        # The filter is on "not retired" rather than "published": a publisher that waited re-reads
        # the rows it locked and must see the list the other one has just put into effect.
        locked = list(
            PriceList.objects.select_for_update().exclude(status=PriceListStatus.RETIRED).order_by("pk")
        )
        target = next((row for row in locked if row.pk == price_list.pk), None)
        if target is None or target.status != PriceListStatus.DRAFT:
            raise DomainError(
                CatalogErrorCode.PRICE_LIST_NOT_DRAFT,
                _("Only a draft price list can be published."),
                status=409,
            )
        missing = price_list_missing_prices(target)
        if missing["trims"] or missing["options"]:
            raise DomainError(
                CatalogErrorCode.PRICE_LIST_INCOMPLETE,
                _("Price list v%(version)s has no price for: %(codes)s.")
                % {"version": target.version, "codes": ", ".join(missing["trims"] + missing["options"])},
                status=422,
                details=missing,
            )
        moment = now()
        previous = next((row for row in locked if row.status == PriceListStatus.PUBLISHED), None)
        if previous is not None:
            previous.status = PriceListStatus.RETIRED
            previous.effective_to = moment
            previous.save(update_fields=["status", "effective_to"])
        target.status = PriceListStatus.PUBLISHED
        target.effective_from = moment
        target.effective_to = None
        target.published_at = moment
        target.published_by = actor if getattr(actor, "pk", None) else None
        target.save(
            update_fields=["status", "effective_from", "effective_to", "published_at", "published_by"]
        )
        details = {
            "version": target.version,
            "previous_version": previous.version if previous else None,
            "effective_from": moment.isoformat(),
        }
        audit_record(
            actor=actor,
            action="catalog.price_list_published",
            object_type="price_list",
            object_id=str(target.version),
            details=details,
        )
        event_record(
            "catalog.price_list_published",
            subject_type="price_list",
            subject_id=str(target.version),
            actor=actor,
            payload=details,
        )
        transaction.on_commit(catalog_cache_clear)
    price_list.refresh_from_db()
    return target


def price_list_draft_copy(*, source: PriceList, actor: Any, name: str = "") -> PriceList:
    """Start a new draft price list with every price of `source`, numbered after the newest list."""
    with transaction.atomic():
        # The unique version number settles a race between two copies: the loser gets IntegrityError.
        version = (PriceList.objects.aggregate(latest=Max("version"))["latest"] or 0) + 1
        draft = PriceList.objects.create(version=version, name=name or f"{source.name} (v{version})")
        PriceListItem.objects.bulk_create(
            PriceListItem(
                price_list=draft, trim_id=item.trim_id, option_id=item.option_id, price_fen=item.price_fen
            )
            for item in source.items.all()
        )
        audit_record(
            actor=actor,
            action="catalog.price_list_drafted",
            object_type="price_list",
            object_id=str(version),
            details={"copied_from": source.version},
        )
    return draft


def configuration_save(
    *, trim_code: str, option_codes: Sequence[str], owner: Any = None
) -> SavedConfiguration:
    """Save a valid configuration with its quote as given now; an invalid one is refused with its breaks."""
    # Saving is authoritative: quote from fresh rows, never from a cached snapshot.
    snapshot = trim_snapshot_for(trim_code, fresh=True)
    result = quote(snapshot, option_codes)
    if not result.valid:
        raise DomainError(
            CatalogErrorCode.INVALID_CONFIGURATION,
            ngettext(
                "This configuration cannot be saved: %(count)s rule is broken.",
                "This configuration cannot be saved: %(count)s rules are broken.",
                len(result.errors),
            )
            % {"count": len(result.errors)},
            status=422,
            details=[error.as_dict() for error in result.errors],
        )
    trim = Trim.objects.select_related("model").get(code=snapshot.trim_code)
    owner = owner if getattr(owner, "pk", None) and getattr(owner, "is_authenticated", False) else None
    for attempt in range(SHARE_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                configuration = SavedConfiguration.objects.create(
                    share_code=share_code(),
                    trim=trim,
                    option_codes=list(result.option_codes),
                    lines=[line.as_record() for line in result.lines],
                    total_fen=result.total.amount,
                    currency=result.total.currency,
                    price_list_version=result.price_list_version,
                    owner=owner,
                    created_at=now(),
                )
                event_record(
                    "catalog.configuration_saved",
                    subject_type="configuration",
                    subject_id=configuration.share_code,
                    actor=owner,
                    payload={
                        "trim": trim.code,
                        "model": trim.model.code,
                        "options": list(result.option_codes),
                        "total_fen": result.total.amount,
                        "price_list_version": result.price_list_version,
                    },
                )
            return configuration
        except IntegrityError:
            # 60-bit codes practically never collide; a collision just draws again.
            if attempt == SHARE_CODE_ATTEMPTS - 1:
                raise
    raise DomainError(CoreErrorCode.CONFLICT, _("Could not save the configuration; try again."), status=409)
