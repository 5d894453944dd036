"""factory_boy factories for the catalogue, and a small named catalogue most tests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import factory

from forecourt.catalog.models import (
    Option,
    OptionRule,
    PackageItem,
    PriceList,
    PriceListItem,
    Trim,
    TrimOption,
    VehicleModel,
)
from forecourt.catalog.services import price_list_publish


class VehicleModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VehicleModel

    code = factory.Sequence(lambda n: f"model-{n}")
    name = factory.Sequence(lambda n: f"车型{n}")
    name_en = factory.Sequence(lambda n: f"Model {n}")
    body_type = "sedan"
    powertrain = "bev"


class TrimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trim

    model = factory.SubFactory(VehicleModelFactory)
    code = factory.Sequence(lambda n: f"trim-{n}")
    name = factory.Sequence(lambda n: f"版本{n}")
    name_en = factory.Sequence(lambda n: f"Trim {n}")
    range_km = 650
    power_kw = 200
    torque_nm = 400
    seats = 5
    length_mm = 4890
    width_mm = 1880
    height_mm = 1460
    wheelbase_mm = 2950
    acceleration_0_100_tenths = 62
    drive = "rwd"


class OptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Option

    code = factory.Sequence(lambda n: f"option-{n}")
    kind = "option"
    name = factory.Sequence(lambda n: f"选装{n}")
    name_en = factory.Sequence(lambda n: f"Option {n}")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    version = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda price_list: f"全国统一价 v{price_list.version}")


@dataclass
class Catalogue:
    """The shared test catalogue: model "aurora", trims "aurora-std" and "aurora-pro"."""

    model: VehicleModel
    std: Trim
    pro: Trim
    options: dict[str, Option]
    price_list: PriceList

    def prices(self) -> dict[str, int]:
        """Every price in the current list by code, in fen."""
        rows = self.price_list.items.select_related("trim", "option")
        return {row.subject_code: row.price_fen for row in rows}


# code, kind, name, name_en, swatch, availability on (std, pro), price in yuan (None: standard-only)
OPTIONS: list[tuple[str, str, str, str, str, str, int | None]] = [
    ("white", "paint", "初雪白", "Glacier White", "#F2F3EE", "ss", None),
    ("red", "paint", "丹霞红", "Danxia Red", "#A4232C", "oo", 8_000),
    ("black-int", "interior", "黑色内饰", "Black interior", "", "ss", None),
    ("tan-int", "interior", "棕色内饰", "Tan interior", "", "oo", 5_000),
    ("wheels-18", "wheels", "18 英寸轮毂", "18-inch wheels", "", "ss", None),
    ("wheels-20", "wheels", "20 英寸轮毂", "20-inch wheels", "", "oo", 6_000),
    ("heat-pump", "option", "热泵空调", "Heat pump", "", "os", 3_000),
    ("hud", "option", "抬头显示", "Head-up display", "", "oo", 4_000),
    ("heated-seats", "option", "座椅加热", "Heated seats", "", "oo", 2_000),
    ("audio", "option", "高级音响", "Premium audio", "", "oo", 8_000),
    ("tow-bar", "option", "拖车钩", "Tow bar", "", "oo", 5_000),
    ("air-sport", "option", "空气悬架运动调校", "Air suspension sport tune", "", "-o", 8_000),
    ("comfort", "package", "舒适包", "Comfort package", "", "oo", 12_000),
    ("pilot", "package", "智驾包", "Assisted driving pack", "", "oo", 25_000),
]
AVAILABILITY = {"s": "standard", "o": "optional"}
TRIM_PRICES = {"aurora-std": 229_900, "aurora-pro": 269_900}


def build_catalogue(*, publish: bool = True, actor: Any = None) -> Catalogue:
    model = VehicleModelFactory.create(
        code="aurora", name="极光", name_en="Aurora", tagline="安静的力量", tagline_en="Quiet power"
    )
    std = TrimFactory.create(model=model, code="aurora-std", name="标准版", name_en="Standard", position=0)
    pro = TrimFactory.create(
        model=model,
        code="aurora-pro",
        name="高性能版",
        name_en="Performance",
        position=1,
        power_kw=390,
        torque_nm=690,
        acceleration_0_100_tenths=39,
        drive="awd",
        range_km=600,
    )
    price_list = PriceListFactory.create(version=1, name="全国统一价 v1")
    options: dict[str, Option] = {}
    for position, (code, kind, name, name_en, swatch, availability, price) in enumerate(OPTIONS):
        option = OptionFactory.create(
            code=code, kind=kind, name=name, name_en=name_en, swatch_hex=swatch, position=position
        )
        options[code] = option
        for trim, letter in zip((std, pro), availability, strict=True):
            if letter in AVAILABILITY:
                TrimOption.objects.create(trim=trim, option=option, availability=AVAILABILITY[letter])
        if price is not None:
            PriceListItem.objects.create(price_list=price_list, option=option, price_fen=price * 100)
    for trim in (std, pro):
        PriceListItem.objects.create(price_list=price_list, trim=trim, price_fen=TRIM_PRICES[trim.code] * 100)
    PackageItem.objects.create(package=options["comfort"], option=options["heated-seats"])
    PackageItem.objects.create(package=options["pilot"], option=options["hud"])
    OptionRule.objects.create(option=options["audio"], kind="requires", other=options["comfort"])
    OptionRule.objects.create(option=options["tow-bar"], kind="excludes", other=options["air-sport"])
    if publish:
        price_list_publish(price_list=price_list, actor=actor)
        price_list.refresh_from_db()
    return Catalogue(model=model, std=std, pro=pro, options=options, price_list=price_list)


def draft_with_changes(catalogue: Catalogue, *, version: int, changes: dict[str, int]) -> PriceList:
    """A new draft with every current price, some replaced (yuan by code)."""
    draft = PriceListFactory.create(version=version, name=f"全国统一价 v{version}")
    for item in catalogue.price_list.items.select_related("trim", "option"):
        code = item.subject_code
        price_fen = changes[code] * 100 if code in changes else item.price_fen
        PriceListItem.objects.create(
            price_list=draft, trim=item.trim, option=item.option, price_fen=price_fen
        )
    return draft
