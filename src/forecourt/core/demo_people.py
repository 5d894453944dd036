"""Made-up but realistic people for every app's demo data: Chinese names and mainland mobile numbers."""

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_NAMES = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "浩然",
    "子涵",
    "欣怡",
    "梓萱",
    "宇轩",
    "思远",
    "雨桐",
    "佳怡",
    "俊杰",
    "晓东",
    "建华",
    "丽华",
    "志强",
    "秀英",
    "婷婷",
    "海燕",
    "春梅",
    "国强",
    "文博",
    "一鸣",
    "嘉怡",
    "若曦",
    "天宇",
    "梦琪",
    "鹏",
    "丹",
    "晨",
    "阳",
    "琳",
    "斌",
    "倩",
    "昊",
]
# Real mobile number blocks of China Mobile, China Unicom and China Telecom.
MOBILE_PREFIXES = [
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "178",
    "182",
    "183",
    "187",
    "188",
    "198",
    "130",
    "131",
    "132",
    "155",
    "156",
    "166",
    "175",
    "176",
    "185",
    "186",
    "133",
    "153",
    "173",
    "177",
    "180",
    "181",
    "189",
    "199",
]
# The demo consumer who signs in by SMS; never handed out to made-up people.
DEMO_CONSUMER_PHONE = "13800138000"


def demo_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def demo_mobile(rng: random.Random) -> str:
    while True:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone != DEMO_CONSUMER_PHONE:
            return phone
