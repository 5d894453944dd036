"""The catalogue and configurator API: /api/v1/catalog/… and /api/v1/configurations/…"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router
from ninja.errors import ValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from forecourt.catalog import selectors, services
from forecourt.catalog.configurator import Quote
from forecourt.catalog.models import Option, SavedConfiguration, Trim, VehicleModel
from forecourt.core.money import Money

router = Router(tags=["catalog"])
configurations_router = Router(tags=["configurations"])

Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MAX_OPTIONS = 60


class ConfigurationIn(BaseModel):
    """A trim code and the chosen option codes (paint, interior, wheels, options, packages)."""

    model_config = ConfigDict(extra="ignore")

    trim: Code
    options: list[Code] = Field(default_factory=list, max_length=MAX_OPTIONS)


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ConfigurationIn.model_json_schema()}},
    }
}


def _parse_configuration(request: HttpRequest) -> ConfigurationIn:
    """Parse the body ourselves so that unparseable JSON is a 422 like any other malformed body."""
    try:
        return ConfigurationIn.model_validate_json(request.body or b"")
    except pydantic.ValidationError as error:
        raise ValidationError(
            [dict(item) for item in error.errors(include_url=False, include_context=False)]
        ) from None


def _money(value: Money | None) -> dict[str, Any] | None:
    return value.as_dict() if value is not None else None


def _names(chinese: str, english: str) -> dict[str, str]:
    return {"zh-hans": chinese, "en": english}


def _model_summary(model: VehicleModel, from_price: Money | None) -> dict[str, Any]:
    return {
        "code": model.code,
        "name": model.display_name,
        "names": _names(model.name, model.name_en),
        "body_type": model.body_type,
        "powertrain": model.powertrain,
        "tagline": model.display_tagline,
        "is_limited_edition": model.is_limited_edition,
        "limited_units": model.limited_units,
        "from_price": _money(from_price),
        "url": reverse("catalog:model-detail", args=[model.code]),
    }


def _trim_summary(trim: Trim, price: Money | None) -> dict[str, Any]:
    return {
        "code": trim.code,
        "model": trim.model.code,
        "name": trim.display_name,
        "names": _names(trim.name, trim.name_en),
        "price": _money(price),
        "is_limited_edition": trim.is_limited_edition,
        "limited_units": trim.limited_units,
        "specs": trim.specs,
    }


def _option(option: Option, includes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "code": option.code,
        "kind": option.kind,
        "name": option.display_name,
        "names": _names(option.name, option.name_en),
        "description": option.display_description,
        "swatch": option.swatch_hex or None,
        "includes": list(includes),
    }


@router.get("/models", summary="Models on sale")
def list_models(request: HttpRequest) -> list[dict[str, Any]]:
    return [_model_summary(card.model, card.from_price) for card in selectors.models_for_home()]


@router.get("/models/{code}", summary="A model: trims, options, rules, current prices, specs")
def get_model(request: HttpRequest, code: str) -> dict[str, Any]:
    detail = selectors.model_detail(code)
    return {
        **_model_summary(detail.model, detail.from_price),
        "price_list_version": detail.price_list.version if detail.price_list else None,
        "trims": [
            {
                **_trim_summary(offer.trim, offer.price),
                "defaults": offer.defaults,
                "options": [
                    {"code": item.option.code, "availability": item.availability, "price": _money(item.price)}
                    for item in offer.offers
                ],
            }
            for offer in detail.trims
        ],
        "options": [_option(option, detail.includes.get(option.code, ())) for option in detail.options],
        "rules": [{"kind": kind, "option": option, "other": other} for kind, option, other in detail.rules],
    }


@router.get("/compare", summary="Two or three trims side by side")
def compare_trims(request: HttpRequest, trims: str = "") -> dict[str, Any]:
    offers = selectors.trims_compare(trims.split(","))
    current = selectors.price_list_current()
    return {
        "price_list_version": current.version if current else None,
        "trims": [
            {**_trim_summary(offer.trim, offer.price), "model_name": offer.trim.model.display_name}
            for offer in offers
        ],
    }


@configurations_router.post("/quote", summary="Check and price a configuration", openapi_extra=_BODY_DOC)
def quote_configuration(request: HttpRequest) -> dict[str, Any]:
    body = _parse_configuration(request)
    return selectors.configuration_quote(trim_code=body.trim, option_codes=body.options).as_dict()


def _request_user(request: HttpRequest) -> Any:
    # Token auth (forecourt.accounts) puts the user on request.auth; pages carry it on request.user.
    for candidate in (getattr(request, "auth", None), getattr(request, "user", None)):
        if candidate is not None and getattr(candidate, "is_authenticated", False):
            return candidate
    return None


def _saved_payload(configuration: SavedConfiguration, saved: Quote) -> dict[str, Any]:
    return {
        "share_code": configuration.share_code,
        "share_url": reverse("catalog:configuration-detail", args=[configuration.share_code]),
        "trim": configuration.trim.code,
        "options": list(configuration.option_codes),
        "created_at": configuration.created_at.isoformat(),
        **saved.as_dict(),
    }


@configurations_router.post(
    "", summary="Save a configuration and get its share code", openapi_extra=_BODY_DOC, response={201: dict}
)
def save_configuration(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    body = _parse_configuration(request)
    configuration = services.configuration_save(
        trim_code=body.trim, option_codes=body.options, owner=_request_user(request)
    )
    return 201, _saved_payload(configuration, selectors.saved_quote(configuration))


@configurations_router.get(
    "/{share_code}", summary="A saved configuration, and today's quote if prices changed"
)
def get_configuration(request: HttpRequest, share_code: str) -> dict[str, Any]:
    view = selectors.configuration_view(share_code=share_code)
    return {
        **_saved_payload(view.configuration, view.saved),
        "current": view.current.as_dict() if view.current else None,
        "no_longer_offered": view.no_longer_offered,
    }
