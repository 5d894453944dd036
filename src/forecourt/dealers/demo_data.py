"""Demo data for the dealer network: 36 Chinese cities, 140 dealers and stores, and their staff.

City centres are WGS-84 degrees of each city's centre (people's square or government seat).
Dealers are scattered a few kilometres around it; malls and districts are real names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from forecourt.core.demo_people import demo_name
from forecourt.dealers.geo import destination_point
from forecourt.dealers.models import City, Dealer

Kind = Dealer.Kind


@dataclass(frozen=True)
class _CitySeed:
    code: str
    name: str
    name_en: str
    province: str
    province_en: str
    latitude: str
    longitude: str
    area_code: str
    districts: tuple[str, ...]
    # (name in the store's name, full name in the address, district)
    malls: tuple[tuple[str, str, str], ...]
    tier: int
    # How far from the centre stores may be, in km: less for cities on a coast or an island.
    spread_km: float = 9.0


# fmt: off
CITIES: tuple[_CitySeed, ...] = (
    # Tier 1: seven stores each.
    _CitySeed("shanghai", "上海", "Shanghai", "上海", "Shanghai", "31.230416", "121.473701", "021",
              ("浦东新区", "黄浦区", "徐汇区", "长宁区", "静安区", "闵行区", "普陀区", "宝山区", "嘉定区",
               "杨浦区"),
              (("前滩太古里", "前滩太古里", "浦东新区"), ("静安嘉里中心", "静安嘉里中心", "静安区")), 1),
    _CitySeed("beijing", "北京", "Beijing", "北京", "Beijing", "39.904211", "116.407395", "010",
              ("朝阳区", "海淀区", "丰台区", "东城区", "西城区", "大兴区", "通州区", "昌平区"),
              (("三里屯太古里", "三里屯太古里", "朝阳区"), ("西单大悦城", "西单大悦城", "西城区")), 1),
    _CitySeed("shenzhen", "深圳", "Shenzhen", "广东", "Guangdong", "22.543099", "114.057868", "0755",
              ("福田区", "罗湖区", "南山区", "宝安区", "龙岗区", "龙华区"),
              (("万象城", "华润万象城", "罗湖区"), ("深圳湾万象城", "深圳湾万象城", "南山区")), 1, 6.0),
    _CitySeed("guangzhou", "广州", "Guangzhou", "广东", "Guangdong", "23.129110", "113.264385", "020",
              ("天河区", "越秀区", "海珠区", "荔湾区", "白云区", "番禺区"),
              (("太古汇", "天河太古汇", "天河区"), ("正佳广场", "正佳广场", "天河区")), 1),
    # Tier 2: five stores each.
    _CitySeed("hangzhou", "杭州", "Hangzhou", "浙江", "Zhejiang", "30.274084", "120.155070", "0571",
              ("上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区"),
              (("湖滨银泰", "湖滨银泰in77", "上城区"),), 2),
    _CitySeed("chengdu", "成都", "Chengdu", "四川", "Sichuan", "30.572815", "104.066801", "028",
              ("锦江区", "青羊区", "金牛区", "武侯区", "成华区", "双流区", "郫都区"),
              (("IFS", "成都国际金融中心IFS", "锦江区"),), 2),
    _CitySeed("nanjing", "南京", "Nanjing", "江苏", "Jiangsu", "32.060255", "118.796877", "025",
              ("玄武区", "秦淮区", "建邺区", "鼓楼区", "江宁区", "栖霞区", "雨花台区"),
              (("德基广场", "德基广场", "玄武区"),), 2),
    _CitySeed("suzhou", "苏州", "Suzhou", "江苏", "Jiangsu", "31.298886", "120.585316", "0512",
              ("姑苏区", "工业园区", "虎丘区", "吴中区", "相城区", "吴江区"),
              (("苏州中心", "苏州中心商场", "工业园区"),), 2),
    _CitySeed("wuhan", "武汉", "Wuhan", "湖北", "Hubei", "30.592849", "114.305539", "027",
              ("江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "洪山区"),
              (("武汉天地", "武汉天地", "江岸区"),), 2),
    _CitySeed("chongqing", "重庆", "Chongqing", "重庆", "Chongqing", "29.563010", "106.551557", "023",
              ("渝中区", "江北区", "渝北区", "南岸区", "九龙坡区", "沙坪坝区"),
              (("来福士", "重庆来福士", "渝中区"),), 2, 7.0),
    _CitySeed("xian", "西安", "Xi'an", "陕西", "Shaanxi", "34.341574", "108.939770", "029",
              ("雁塔区", "碑林区", "新城区", "莲湖区", "未央区", "长安区", "灞桥区"),
              (("赛格", "赛格国际购物中心", "雁塔区"),), 2),
    _CitySeed("tianjin", "天津", "Tianjin", "天津", "Tianjin", "39.084158", "117.200983", "022",
              ("和平区", "河西区", "南开区", "河东区", "河北区", "西青区", "东丽区"),
              (("恒隆广场", "天津恒隆广场", "和平区"),), 2),
    # Tier 3: three stores each.
    _CitySeed("ningbo", "宁波", "Ningbo", "浙江", "Zhejiang", "29.868336", "121.543990", "0574",
              ("海曙区", "江北区", "鄞州区", "镇海区", "北仑区"),
              (("天一广场", "天一广场", "海曙区"),), 3, 7.0),
    _CitySeed("changsha", "长沙", "Changsha", "湖南", "Hunan", "28.228209", "112.938814", "0731",
              ("芙蓉区", "天心区", "岳麓区", "开福区", "雨花区"),
              (("IFS", "长沙国金中心IFS", "芙蓉区"),), 3),
    _CitySeed("zhengzhou", "郑州", "Zhengzhou", "河南", "Henan", "34.746600", "113.625400", "0371",
              ("金水区", "中原区", "二七区", "管城回族区", "惠济区"),
              (("正弘城", "正弘城", "金水区"),), 3),
    _CitySeed("qingdao", "青岛", "Qingdao", "山东", "Shandong", "36.067108", "120.382609", "0532",
              ("市南区", "市北区", "李沧区", "崂山区", "城阳区"),
              (("万象城", "青岛万象城", "市南区"),), 3, 4.0),
    _CitySeed("jinan", "济南", "Jinan", "山东", "Shandong", "36.651216", "117.120095", "0531",
              ("历下区", "市中区", "槐荫区", "天桥区", "历城区"),
              (("恒隆广场", "济南恒隆广场", "历下区"),), 3),
    _CitySeed("hefei", "合肥", "Hefei", "安徽", "Anhui", "31.820587", "117.227239", "0551",
              ("蜀山区", "包河区", "庐阳区", "瑶海区"),
              (("银泰中心", "合肥银泰中心", "庐阳区"),), 3),
    _CitySeed("fuzhou", "福州", "Fuzhou", "福建", "Fujian", "26.074508", "119.296494", "0591",
              ("鼓楼区", "台江区", "仓山区", "晋安区"),
              (("东百中心", "东百中心", "鼓楼区"),), 3, 6.0),
    _CitySeed("xiamen", "厦门", "Xiamen", "福建", "Fujian", "24.479833", "118.089425", "0592",
              ("思明区", "湖里区"),
              (("万象城", "厦门万象城", "思明区"),), 3, 3.0),
    _CitySeed("kunming", "昆明", "Kunming", "云南", "Yunnan", "25.038889", "102.718333", "0871",
              ("五华区", "盘龙区", "官渡区", "西山区"),
              (("顺城", "顺城购物中心", "五华区"),), 3),
    _CitySeed("shenyang", "沈阳", "Shenyang", "辽宁", "Liaoning", "41.805699", "123.431472", "024",
              ("和平区", "沈河区", "皇姑区", "铁西区", "浑南区"),
              (("万象城", "沈阳万象城", "和平区"),), 3),
    _CitySeed("dalian", "大连", "Dalian", "辽宁", "Liaoning", "38.914003", "121.614682", "0411",
              ("中山区", "西岗区", "沙河口区", "甘井子区"),
              (("恒隆广场", "大连恒隆广场", "西岗区"),), 3, 4.0),
    _CitySeed("harbin", "哈尔滨", "Harbin", "黑龙江", "Heilongjiang", "45.803775", "126.534967", "0451",
              ("南岗区", "道里区", "道外区", "香坊区"),
              (("卓展", "卓展购物中心", "道里区"),), 3),
    _CitySeed("changchun", "长春", "Changchun", "吉林", "Jilin", "43.817071", "125.323544", "0431",
              ("朝阳区", "南关区", "宽城区", "绿园区"),
              (("欧亚商都", "欧亚商都", "朝阳区"),), 3),
    _CitySeed("shijiazhuang", "石家庄", "Shijiazhuang", "河北", "Hebei", "38.042802", "114.514860", "0311",
              ("长安区", "桥西区", "新华区", "裕华区"),
              (("北国商城", "北国商城", "长安区"),), 3),
    _CitySeed("taiyuan", "太原", "Taiyuan", "山西", "Shanxi", "37.870590", "112.548879", "0351",
              ("小店区", "迎泽区", "杏花岭区", "万柏林区"),
              (("茂业天地", "茂业天地", "小店区"),), 3),
    _CitySeed("nanchang", "南昌", "Nanchang", "江西", "Jiangxi", "28.682892", "115.858198", "0791",
              ("东湖区", "西湖区", "青山湖区", "红谷滩区"),
              (("万达广场", "红谷滩万达广场", "红谷滩区"),), 3),
    _CitySeed("nanning", "南宁", "Nanning", "广西", "Guangxi", "22.817002", "108.366543", "0771",
              ("青秀区", "兴宁区", "西乡塘区", "江南区"),
              (("万象城", "南宁万象城", "青秀区"),), 3),
    _CitySeed("guiyang", "贵阳", "Guiyang", "贵州", "Guizhou", "26.647661", "106.630153", "0851",
              ("南明区", "云岩区", "观山湖区", "花溪区"),
              (("万达广场", "观山湖万达广场", "观山湖区"),), 3),
    _CitySeed("lanzhou", "兰州", "Lanzhou", "甘肃", "Gansu", "36.061089", "103.834304", "0931",
              ("城关区", "七里河区", "安宁区", "西固区"),
              (("兰州中心", "兰州中心", "七里河区"),), 3, 6.0),
    _CitySeed("urumqi", "乌鲁木齐", "Urumqi", "新疆", "Xinjiang", "43.825592", "87.616848", "0991",
              ("天山区", "沙依巴克区", "新市区", "水磨沟区"),
              (("美美", "美美购物中心", "沙依巴克区"),), 3),
    _CitySeed("hohhot", "呼和浩特", "Hohhot", "内蒙古", "Inner Mongolia", "40.841490", "111.751990", "0471",
              ("新城区", "回民区", "赛罕区", "玉泉区"),
              (("万达广场", "呼和浩特万达广场", "赛罕区"),), 3),
    _CitySeed("wuxi", "无锡", "Wuxi", "江苏", "Jiangsu", "31.491169", "120.311910", "0510",
              ("梁溪区", "滨湖区", "新吴区", "锡山区", "惠山区"),
              (("恒隆广场", "无锡恒隆广场", "梁溪区"),), 3),
    _CitySeed("dongguan", "东莞", "Dongguan", "广东", "Guangdong", "23.020673", "113.751799", "0769",
              ("南城街道", "东城街道", "莞城街道", "松山湖", "长安镇"),
              (("万象汇", "东莞万象汇", "南城街道"),), 3),
    _CitySeed("foshan", "佛山", "Foshan", "广东", "Guangdong", "23.021478", "113.121435", "0757",
              ("禅城区", "南海区", "顺德区", "三水区"),
              (("岭南天地", "岭南天地", "禅城区"),), 3),
)
# fmt: on

_STORES_BY_TIER: dict[int, tuple[str, ...]] = {
    1: (
        Kind.DEALER_4S,
        Kind.DEALER_4S,
        Kind.DEALER_4S,
        Kind.EXPERIENCE_STORE,
        Kind.EXPERIENCE_STORE,
        Kind.DELIVERY_CENTRE,
        Kind.SERVICE_CENTRE,
    ),
    2: (Kind.DEALER_4S, Kind.DEALER_4S, Kind.EXPERIENCE_STORE, Kind.DELIVERY_CENTRE, Kind.SERVICE_CENTRE),
}
# Smaller cities get one of these mixes in turn, so every kind also appears outside the big cities.
_TIER_3_MIXES: tuple[tuple[str, ...], ...] = (
    (Kind.DEALER_4S, Kind.DEALER_4S, Kind.EXPERIENCE_STORE),
    (Kind.DEALER_4S, Kind.EXPERIENCE_STORE, Kind.SERVICE_CENTRE),
    (Kind.DEALER_4S, Kind.DEALER_4S, Kind.DELIVERY_CENTRE),
    (Kind.DEALER_4S, Kind.EXPERIENCE_STORE, Kind.DEALER_4S),
)

# Dealer groups' trading names (fictional) for 4S dealers.
_GROUPS = ("华通", "远航", "恒泰", "鸿达", "瑞丰", "锦程", "安驰", "永盛", "信达", "天骏", "德润", "嘉禾")
_ROADS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "长江路",
    "黄河路",
    "和平路",
    "新华路",
    "胜利路",
    "民主路",
    "光明路",
    "发展大道",
    "创业大道",
    "迎宾大道",
    "世纪大道",
    "科技路",
    "工业大道",
    "滨河路",
    "花园路",
    "文化路",
)

_ALL_WEEK_4S_SHORT = {day: ["08:30", "18:30"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
_ALL_WEEK_4S_LONG = {day: ["09:00", "21:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
_MALL_HOURS = {day: ["10:00", "22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# Delivery centres rest on Mondays, when few people collect cars.
_DELIVERY_HOURS = {day: ["09:00", "18:00"] for day in ("tue", "wed", "thu", "fri", "sat", "sun")}
_SERVICE_HOURS = {
    **{day: ["08:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
    "sun": ["09:00", "17:00"],
}


def _area(district: str) -> str:
    """The short form used in a store's name: 浦东新区 → 浦东, 管城回族区 → 管城, 南城街道 → 南城."""
    for suffix in ("回族区", "新区", "街道", "区", "镇"):
        if district.endswith(suffix) and len(district) > len(suffix) + 1:
            return district[: -len(suffix)]
    return {"工业园区": "园区"}.get(district, district)


def _city_prefix(city: _CitySeed) -> str:
    return f"{city.name}市"


def _point_near(
    rng: random.Random, latitude: Decimal, longitude: Decimal, low_km: float, high_km: float
) -> tuple[Decimal, Decimal]:
    """A point `low_km`…`high_km` from the origin in a random direction."""
    lat, lng = destination_point(
        float(latitude), float(longitude), rng.uniform(low_km, high_km), rng.uniform(0, 360)
    )
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def _landline(rng: random.Random, area_code: str) -> str:
    return f"{area_code}-{rng.randint(2, 8)}{rng.randint(0, 9_999_999):07d}"


def _person_name(rng: random.Random) -> str:
    return demo_name(rng)


def _street_address(rng: random.Random, seed: _CitySeed, district: str) -> str:
    return f"{_city_prefix(seed)}{district}{rng.choice(_ROADS)}{rng.randint(1, 2999)}号"


def _dealer_for(
    rng: random.Random,
    seed: _CitySeed,
    city: City,
    *,
    kind: str,
    district: str,
    group: str,
    mall: tuple[str, str, str] | None,
) -> Dealer:
    area = _area(district)
    spread = seed.spread_km
    if kind == Kind.DEALER_4S:
        # 4S dealers sit on the arterial roads at the edge of town, where land is cheap.
        name = f"{seed.name}{area}{group}汽车4S店"
        address = _street_address(rng, seed, district)
        hours = rng.choice((_ALL_WEEK_4S_SHORT, _ALL_WEEK_4S_LONG))
        near = (spread * 0.3, spread)
        offers = (True, True, True, True)
        capacity, cars = rng.randint(60, 150), rng.randint(3, 8)
    elif kind == Kind.EXPERIENCE_STORE:
        assert mall is not None
        short, full, district = mall
        # "苏州中心" already names its city: no "苏州苏州中心体验店".
        name = f"{'' if short.startswith(seed.name) else seed.name}{short}体验店"
        unit = f"{rng.choice(('L1', 'L2', 'B1'))}-{rng.randint(1, 60):02d}"
        address = f"{_city_prefix(seed)}{district}{full} {unit}"
        hours = _MALL_HOURS
        near = (0.3, min(3.0, spread))
        # A few small mall stores have no room for a test-drive car.
        offers = (False, rng.random() < 0.85, False, False)
        capacity, cars = rng.randint(30, 80), rng.randint(1, 3)
    elif kind == Kind.DELIVERY_CENTRE:
        name = f"{seed.name}{area}交付中心"
        address = _street_address(rng, seed, district)
        hours = _DELIVERY_HOURS
        near = (spread * 0.3, spread)
        offers = (False, rng.random() < 0.7, True, False)
        capacity, cars = rng.randint(20, 40), rng.randint(2, 6)
    else:
        name = f"{seed.name}{area}服务中心"
        address = _street_address(rng, seed, district)
        hours = _SERVICE_HOURS
        near = (spread * 0.3, spread)
        offers = (False, False, False, True)
        capacity, cars = rng.randint(10, 20), rng.randint(0, 1)
    latitude, longitude = _point_near(rng, city.latitude, city.longitude, *near)
    return Dealer(
        name=name,
        kind=kind,
        city=city,
        address=address,
        latitude=latitude,
        longitude=longitude,
        phone=_landline(rng, seed.area_code),
        opening_hours=dict(hours),
        offers_sales=offers[0],
        offers_test_drive=offers[1],
        offers_delivery=offers[2],
        offers_service=offers[3],
        lead_capacity=capacity,
        demo_car_count=cars,
    )


def _store_kinds(seed: _CitySeed, tier_3_index: int) -> tuple[str, ...]:
    if seed.tier in _STORES_BY_TIER:
        return _STORES_BY_TIER[seed.tier]
    return _TIER_3_MIXES[tier_3_index % len(_TIER_3_MIXES)]


def _staff_roles(rng: random.Random, dealer: Dealer) -> list[str]:
    """A manager everywhere, sales advisors where cars are shown, service advisors where cars are serviced."""
    roles = ["dealer_manager"]
    if dealer.kind == Kind.DEALER_4S:
        roles += ["sales_advisor"] * rng.randint(2, 4)
    elif dealer.kind == Kind.EXPERIENCE_STORE:
        roles += ["sales_advisor"] * 2
    elif dealer.kind == Kind.DELIVERY_CENTRE:
        roles += ["sales_advisor"] * rng.randint(1, 2)
    if dealer.offers_service:
        roles += ["service_advisor"] * rng.randint(1, 2 if dealer.kind == Kind.DEALER_4S else 3)
    return roles


def seed(*, rng: random.Random) -> None:
    """Create the demo cities, dealers and stores, and each store's staff (who cannot sign in)."""
    with transaction.atomic():
        cities = {}
        for city_seed in CITIES:
            cities[city_seed.code], _created = City.objects.update_or_create(
                code=city_seed.code,
                defaults={
                    "name": city_seed.name,
                    "name_en": city_seed.name_en,
                    "province": city_seed.province,
                    "province_en": city_seed.province_en,
                    "latitude": Decimal(city_seed.latitude),
                    "longitude": Decimal(city_seed.longitude),
                },
            )
        if Dealer.objects.exists():
            return

        dealers: list[Dealer] = []
        tier_3_index = 0
        for city_seed in CITIES:
            kinds = _store_kinds(city_seed, tier_3_index)
            tier_3_index += city_seed.tier == 3
            districts = rng.sample(city_seed.districts, k=min(len(city_seed.districts), len(kinds)))
            # Distinct groups keep two 4S dealers of one district apart by name.
            groups = rng.sample(_GROUPS, k=len(kinds))
            malls = list(city_seed.malls)
            for index, kind in enumerate(kinds):
                dealers.append(
                    _dealer_for(
                        rng,
                        city_seed,
                        cities[city_seed.code],
                        kind=kind,
                        district=districts[index % len(districts)],
                        group=groups[index],
                        mall=malls.pop(0) if kind == Kind.EXPERIENCE_STORE else None,
                    )
                )
        Dealer.objects.bulk_create(dealers)

        user_model = get_user_model()
        known_roles = {value for value, _label in user_model._meta.get_field("role").choices or ()}
        staff = []
        for dealer in Dealer.objects.order_by("pk"):
            for number, role in enumerate(_staff_roles(rng, dealer), start=1):
                assert role in known_roles, role
                person = user_model(
                    username=f"{dealer.public_id.lower()}-{number}",
                    display_name=_person_name(rng),
                    role=role,
                    dealer=dealer,
                )
                # Demo staff never sign in; the accounts demo data creates the demo logins.
                person.set_unusable_password()
                staff.append(person)
        user_model.objects.bulk_create(staff)
