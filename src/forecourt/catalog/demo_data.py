"""Demo catalogue: three models for the Chinese market, two price-list versions, a few saved quotes.

Availability strings have one letter per trim, in trim order: s = standard, o = optional, - = unavailable.
Prices are in yuan as (v1, v2); a single number means unchanged. Standard-only items need no price.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction

from forecourt.catalog.configurator import CHOICE_GROUPS
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
from forecourt.catalog.selectors import trim_snapshot_for
from forecourt.catalog.services import configuration_save, price_list_publish
from forecourt.core.clock import frozen_at, now
from forecourt.core.errors import DomainError

AVAILABILITY = {"s": "standard", "o": "optional", "-": "unavailable"}

SPECS = ("range_km", "fuel", "power_kw", "torque_nm", "seats", "size", "wheelbase_mm", "accel", "drive")

MODELS: list[dict[str, Any]] = [
    {
        "code": "xinglan",
        "name": "星澜",
        "name_en": "Xinglan",
        "body_type": "sedan",
        "powertrain": "bev",
        "tagline": "一次充电，从容千里",
        "tagline_en": "Further on every charge",
        "hero": ("#0F2A4A", "#5B8DEF"),
        "trims": [
            # code, name, name_en, price (v1, v2), range, fuel, kW, N·m, seats, L×W×H, wheelbase, 0–100, drive
            (
                "xl-long-range",
                "长续航后驱版",
                "Long Range RWD",
                229_900,
                720,
                None,
                200,
                400,
                5,
                (4890, 1880, 1460),
                2950,
                62,
                "rwd",
            ),
            (
                "xl-performance",
                "高性能四驱版",
                "Performance AWD",
                (265_900, 269_900),
                650,
                None,
                390,
                690,
                5,
                (4890, 1880, 1450),
                2950,
                39,
                "awd",
            ),
            (
                "xl-launch",
                "首发限量版",
                "Launch Edition",
                299_900,
                600,
                None,
                390,
                690,
                5,
                (4890, 1880, 1450),
                2950,
                38,
                "awd",
            ),
        ],
        "limited_trim": ("xl-launch", 300),
        "options": [
            ("xl-paint-white", "paint", "初雪白", "Glacier White", "#F2F3EE", "sss", None),
            ("xl-paint-black", "paint", "墨玉黑", "Obsidian Black", "#16181B", "sss", None),
            ("xl-paint-silver", "paint", "月影银", "Moonlight Silver", "#B8BDC3", "oo-", 6_000),
            ("xl-paint-blue", "paint", "星澜蓝", "Nebula Blue", "#1E4F8C", "oos", 8_000),
            ("xl-paint-red", "paint", "丹霞红", "Danxia Red", "#A4232C", "oo-", (10_000, 12_000)),
            ("xl-paint-green", "paint", "松烟绿", "Pine Smoke Green", "#3F5B4C", "-os", 8_000),
            ("xl-int-black", "interior", "曜石黑 Nappa 真皮", "Obsidian Nappa leather", "", "sss", None),
            ("xl-int-cream", "interior", "云白 Nappa 真皮", "Cloud White Nappa leather", "", "oos", 5_000),
            (
                "xl-int-orange",
                "interior",
                "落日橙限定内饰",
                "Sunset Orange signature interior",
                "",
                "--s",
                None,
            ),
            ("xl-wheels-19", "wheels", "19 英寸低风阻轮毂", "19-inch aero wheels", "", "s--", None),
            ("xl-wheels-20", "wheels", "20 英寸运动轮毂", "20-inch sport wheels", "", "oss", 6_000),
            ("xl-wheels-21", "wheels", "21 英寸锻造轮毂", "21-inch forged wheels", "", "-o-", 12_000),
            ("xl-heat-pump", "option", "热泵空调", "Heat pump", "", "oss", 3_000),
            ("xl-hud", "option", "AR-HUD 抬头显示", "AR head-up display", "", "oos", 4_000),
            ("xl-rear-heat", "option", "后排座椅加热", "Heated rear seats", "", "oos", 2_000),
            ("xl-audio", "option", "臻享 23 扬声器音响", "Premium 23-speaker audio", "", "oos", 8_000),
            ("xl-comfort", "package", "舒适包", "Comfort package", "", "oos", 12_000),
            (
                "xl-pilot",
                "package",
                "高阶智驾包 L2+",
                "Assisted driving pack L2+",
                "",
                "ooo",
                (22_000, 25_000),
            ),
        ],
        "packages": {"xl-comfort": ["xl-rear-heat"], "xl-pilot": ["xl-hud"]},
        "rules": [("xl-audio", "requires", "xl-comfort")],
    },
    {
        "code": "yuefeng",
        "name": "岳峰",
        "name_en": "Yuefeng",
        "body_type": "suv",
        "powertrain": "phev",
        "tagline": "城市通勤用电，远方山野用油",
        "tagline_en": "Electric in town, petrol for the mountains",
        "hero": ("#1E3B2F", "#7FB38F"),
        "trims": [
            (
                "yf-pro",
                "两驱 Pro 版",
                "Pro 2WD",
                259_900,
                180,
                58,
                240,
                500,
                5,
                (5020, 1960, 1750),
                2950,
                75,
                "fwd",
            ),
            (
                "yf-max",
                "四驱 Max 版",
                "Max AWD",
                (295_900, 299_900),
                200,
                63,
                330,
                620,
                5,
                (5020, 1960, 1755),
                2950,
                49,
                "awd",
            ),
            (
                "yf-ultra",
                "四驱 Ultra 版",
                "Ultra AWD",
                359_900,
                220,
                65,
                400,
                720,
                5,
                (5020, 1960, 1755),
                2950,
                45,
                "awd",
            ),
        ],
        "options": [
            ("yf-paint-white", "paint", "极地白", "Polar White", "#F1F2F0", "sss", None),
            ("yf-paint-grey", "paint", "岩石灰", "Granite Grey", "#5E6368", "sss", None),
            ("yf-paint-black", "paint", "曜夜黑", "Midnight Black", "#121316", "ooo", 6_000),
            ("yf-paint-green", "paint", "峰峦绿", "Ridge Green", "#2F4A3A", "ooo", (8_000, 10_000)),
            ("yf-paint-blue", "paint", "深海蓝", "Deep Sea Blue", "#183A5A", "ooo", 8_000),
            ("yf-paint-gold", "paint", "大漠金", "Desert Gold", "#B59B6A", "-oo", 12_000),
            ("yf-int-black", "interior", "玄黑真皮", "Black leather", "", "sss", None),
            ("yf-int-brown", "interior", "马鞍棕真皮", "Saddle Brown leather", "", "oos", 6_000),
            ("yf-int-grey", "interior", "雾灰科技织物", "Fog Grey technical fabric", "", "ooo", 3_000),
            ("yf-wheels-20", "wheels", "20 英寸轮毂", "20-inch wheels", "", "ss-", None),
            ("yf-wheels-21", "wheels", "21 英寸轮毂", "21-inch wheels", "", "oos", 8_000),
            ("yf-wheels-22", "wheels", "22 英寸锻造轮毂", "22-inch forged wheels", "", "-oo", 12_000),
            ("yf-seven-seat", "option", "2+3+2 七座布局", "Seven-seat layout", "", "ooo", 10_000),
            ("yf-tow-bar", "option", "电动拖车钩", "Electric tow bar", "", "ooo", 5_000),
            ("yf-air", "option", "空气悬架", "Air suspension", "", "-os", 15_000),
            ("yf-air-sport", "option", "空气悬架运动调校", "Air suspension sport tune", "", "-oo", 8_000),
            ("yf-heat-pump", "option", "热泵空调", "Heat pump", "", "oss", 3_000),
            ("yf-hud", "option", "AR-HUD 抬头显示", "AR head-up display", "", "oos", 4_000),
            (
                "yf-rear-heat",
                "option",
                "二排座椅加热通风",
                "Heated and ventilated second row",
                "",
                "oos",
                3_000,
            ),
            ("yf-audio", "option", "臻享 21 扬声器音响", "Premium 21-speaker audio", "", "oos", 8_000),
            ("yf-comfort", "package", "舒适包", "Comfort package", "", "oos", 12_000),
            ("yf-offroad", "package", "越野包", "Off-road package", "", "-oo", 9_000),
            (
                "yf-pilot",
                "package",
                "高阶智驾包 L2+",
                "Assisted driving pack L2+",
                "",
                "ooo",
                (22_000, 25_000),
            ),
        ],
        "packages": {"yf-comfort": ["yf-rear-heat"], "yf-offroad": ["yf-tow-bar"], "yf-pilot": ["yf-hud"]},
        "rules": [
            ("yf-tow-bar", "excludes", "yf-air-sport"),
            ("yf-air-sport", "requires", "yf-air"),
            ("yf-wheels-22", "requires", "yf-air"),
            ("yf-audio", "requires", "yf-comfort"),
        ],
    },
    {
        "code": "heyue",
        "name": "和悦",
        "name_en": "Heyue",
        "body_type": "mpv",
        "powertrain": "phev",
        "tagline": "一家人的头等舱",
        "tagline_en": "First class for the whole family",
        "hero": ("#3A2E25", "#C8A97E"),
        "trims": [
            (
                "hy-business",
                "商务版",
                "Business",
                329_900,
                125,
                62,
                245,
                510,
                7,
                (5212, 1998, 1800),
                3200,
                86,
                "fwd",
            ),
            (
                "hy-flagship",
                "旗舰版",
                "Flagship",
                (419_900, 429_900),
                140,
                68,
                300,
                630,
                7,
                (5212, 1998, 1810),
                3200,
                72,
                "awd",
            ),
        ],
        "options": [
            ("hy-paint-black", "paint", "玄墨黑", "Ink Black", "#141518", "ss", None),
            ("hy-paint-white", "paint", "珍珠白", "Pearl White", "#EDEBE4", "ss", None),
            ("hy-paint-silver", "paint", "香槟银", "Champagne Silver", "#C8BFA9", "oo", 6_000),
            ("hy-paint-blue", "paint", "黛青蓝", "Indigo Blue", "#263A5C", "oo", 8_000),
            ("hy-paint-two-tone", "paint", "墨金双色", "Ink and Gold two-tone", "#2B2A28", "-o", 12_000),
            ("hy-int-black", "interior", "商务黑真皮", "Business Black leather", "", "ss", None),
            ("hy-int-tan", "interior", "焦糖棕真皮", "Caramel leather", "", "os", 6_000),
            ("hy-int-ivory", "interior", "象牙白 Nappa 真皮", "Ivory Nappa leather", "", "-o", 8_000),
            ("hy-wheels-18", "wheels", "18 英寸舒适轮毂", "18-inch comfort wheels", "", "s-", None),
            ("hy-wheels-19", "wheels", "19 英寸轮毂", "19-inch wheels", "", "os", 5_000),
            (
                "hy-rear-screen",
                "option",
                "15.6 英寸后排吸顶屏",
                "15.6-inch rear ceiling screen",
                "",
                "oo",
                9_000,
            ),
            ("hy-fridge", "option", "车载冰箱", "On-board fridge", "", "oo", 3_000),
            ("hy-zero-g", "option", "二排零重力座椅", "Zero-gravity second-row seats", "", "os", 15_000),
            ("hy-four-seat", "option", "四座行政布局", "Four-seat executive layout", "", "-o", 30_000),
            ("hy-tow-bar", "option", "拖车钩", "Tow bar", "", "oo", 5_000),
            ("hy-hud", "option", "AR-HUD 抬头显示", "AR head-up display", "", "os", 4_000),
            ("hy-audio", "option", "臻享 25 扬声器音响", "Premium 25-speaker audio", "", "oo", 8_000),
            ("hy-executive", "package", "行政包", "Executive package", "", "oo", 10_000),
            (
                "hy-pilot",
                "package",
                "高阶智驾包 L2+",
                "Assisted driving pack L2+",
                "",
                "oo",
                (22_000, 25_000),
            ),
        ],
        "packages": {"hy-executive": ["hy-rear-screen", "hy-fridge"], "hy-pilot": ["hy-hud"]},
        "rules": [
            ("hy-four-seat", "requires", "hy-zero-g"),
            # The executive layout's centre console has its own fridge; a second one does not fit.
            ("hy-four-seat", "excludes", "hy-fridge"),
            ("hy-audio", "requires", "hy-executive"),
        ],
    },
]

DESCRIPTIONS = {
    "heat-pump": (
        "低温环境下减少空调能耗，冬季续航更稳定。",
        "Uses less energy for heating, so winter range holds up.",
    ),
    "hud": ("将车速、导航投射在前挡风玻璃上。", "Projects speed and navigation onto the windscreen."),
    "audio": (
        "杜比全景声调校，需选装舒适包或行政包。",
        "Dolby Atmos tuning; needs the comfort or executive package.",
    ),
    "comfort": ("前排通风按摩座椅与后排加热。", "Ventilated massage front seats and heated rear seats."),
    "pilot": (
        "城市与高速领航辅助，含 AR-HUD。",
        "Navigate-on-autopilot in town and on motorways, with AR-HUD.",
    ),
    "tow-bar": ("电动收放，牵引质量 2000 千克。", "Retracts electrically; tows up to 2,000 kg."),
    "air": ("可调车身高度，舒适与通过性兼顾。", "Adjustable ride height for comfort and clearance."),
    "air-sport": ("更紧致的阻尼与更低的车身。", "Firmer damping and a lower stance."),
    "offroad": ("含拖车钩、底盘护板与越野模式。", "Tow bar, underbody protection and off-road modes."),
    "executive": ("后排吸顶屏与车载冰箱。", "Rear ceiling screen and on-board fridge."),
    "seven-seat": ("第三排可电动放倒。", "Third row folds electrically."),
}


def _price(value: int | tuple[int, int], version: int) -> int:
    yuan = value[version - 1] if isinstance(value, tuple) else value
    return yuan * 100


def _description(code: str) -> tuple[str, str]:
    suffix = code.split("-", 1)[1]
    return DESCRIPTIONS.get(suffix, ("", ""))


def _seed_model(
    position: int, spec: dict[str, Any], prices: dict[int, list[PriceListItem]], lists: list[PriceList]
) -> None:
    model = VehicleModel.objects.create(
        code=spec["code"],
        name=spec["name"],
        name_en=spec["name_en"],
        body_type=spec["body_type"],
        powertrain=spec["powertrain"],
        tagline=spec["tagline"],
        tagline_en=spec["tagline_en"],
        hero_colour=spec["hero"][0],
        hero_colour_end=spec["hero"][1],
        position=position,
    )
    limited_code, limited_units = spec.get("limited_trim", ("", None))
    trims = []
    for index, row in enumerate(spec["trims"]):
        code, name, name_en, price, range_km, fuel, power, torque, seats, size, wheelbase, accel, drive = row
        trim = Trim.objects.create(
            model=model,
            code=code,
            name=name,
            name_en=name_en,
            position=index,
            is_limited_edition=code == limited_code,
            limited_units=limited_units if code == limited_code else None,
            range_km=range_km,
            fuel_l_per_100km_tenths=fuel,
            power_kw=power,
            torque_nm=torque,
            seats=seats,
            length_mm=size[0],
            width_mm=size[1],
            height_mm=size[2],
            wheelbase_mm=wheelbase,
            acceleration_0_100_tenths=accel,
            drive=drive,
        )
        trims.append(trim)
        for price_list in lists:
            prices[price_list.version].append(
                PriceListItem(price_list=price_list, trim=trim, price_fen=_price(price, price_list.version))
            )
    options: dict[str, Option] = {}
    for index, (code, kind, name, name_en, swatch, availability, price) in enumerate(spec["options"]):
        description, description_en = _description(code)
        option = Option.objects.create(
            code=code,
            kind=kind,
            name=name,
            name_en=name_en,
            description=description,
            description_en=description_en,
            swatch_hex=swatch,
            position=index,
        )
        options[code] = option
        TrimOption.objects.bulk_create(
            TrimOption(trim=trim, option=option, availability=AVAILABILITY[letter])
            for trim, letter in zip(trims, availability, strict=True)
            if letter != "-"
        )
        if price is not None:
            for price_list in lists:
                prices[price_list.version].append(
                    PriceListItem(
                        price_list=price_list, option=option, price_fen=_price(price, price_list.version)
                    )
                )
    for package, members in spec["packages"].items():
        PackageItem.objects.bulk_create(
            PackageItem(package=options[package], option=options[m]) for m in members
        )
    OptionRule.objects.bulk_create(
        OptionRule(option=options[option], kind=kind, other=options[other])
        for option, kind, other in spec["rules"]
    )


def _random_choices(trim_code: str, rng: random.Random) -> list[str]:
    snapshot = trim_snapshot_for(trim_code, fresh=True)
    chosen = []
    for kind in CHOICE_GROUPS:
        offered = [entry.code for entry in snapshot.options if entry.kind == kind and entry.is_offered]
        chosen.append(rng.choice(offered))
    extras = [
        entry.code
        for entry in snapshot.options
        if entry.kind not in CHOICE_GROUPS and entry.availability == "optional" and entry.is_offered
    ]
    chosen.extend(rng.sample(extras, k=min(len(extras), rng.randint(0, 3))))
    return chosen


def _save_some(trim_codes: list[str], rng: random.Random, count: int) -> None:
    for _index in range(count):
        trim_code = rng.choice(trim_codes)
        for _attempt in range(40):
            try:
                configuration_save(trim_code=trim_code, option_codes=_random_choices(trim_code, rng))
                break
            except DomainError:
                continue  # a random pick broke a rule; draw again


def seed(*, rng: random.Random) -> None:
    """Three models with trims, options, rules; price lists v1 (retired) and v2 (current); saved quotes."""
    if VehicleModel.objects.exists():
        return
    today = now()
    with transaction.atomic():
        lists = [
            PriceList.objects.create(version=1, name="2025 年春季全国统一价 / National prices, spring"),
            PriceList.objects.create(version=2, name="2025 年秋季全国统一价 / National prices, autumn"),
        ]
        prices: dict[int, list[PriceListItem]] = {1: [], 2: []}
        for position, spec in enumerate(MODELS):
            _seed_model(position, spec, prices, lists)
        for items in prices.values():
            PriceListItem.objects.bulk_create(items)
    trim_codes = [row[0] for spec in MODELS for row in spec["trims"]]
    with frozen_at(today - timedelta(days=60)):
        price_list_publish(price_list=lists[0], actor="demo seed")
    with frozen_at(today - timedelta(days=35)):
        # One quote whose prices v2 raises, so the demo shows a saved price beside today's.
        configuration_save(
            trim_code="xl-performance",
            option_codes=["xl-paint-red", "xl-int-cream", "xl-wheels-21", "xl-pilot"],
        )
        _save_some(trim_codes, rng, 3)
    with frozen_at(today - timedelta(days=14)):
        price_list_publish(price_list=lists[1], actor="demo seed")
    with frozen_at(today - timedelta(days=3)):
        _save_some(trim_codes, rng, 4)
