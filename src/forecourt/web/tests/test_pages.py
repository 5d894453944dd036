"""The layout, the home page, the language switch and the error pages."""

from __future__ import annotations

import json
import random
import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

from forecourt.accounts.models import Role, User
from forecourt.catalog import demo_data as catalog_demo
from forecourt.catalog.selectors import models_for_home, trims_for_picker
from forecourt.dealers.tests.factories import DealerFactory
from forecourt.web import views

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("compiled_catalogues")]

ENGLISH_NAV_LABELS = {
    "Models",
    "Test drive",
    "Dealers",
    "Compare",
    "My appointments",
    "My orders",
    "Account",
    "Sign in",
    "Ops console",
    "Offers",
    "My coupons",
    "Write-off",
    "Subsidy review",
    "Club",
    "Refer & earn",
    "Broker centre",
    "Broker review",
    "Members",
}
NAV = re.compile(r'<nav class="site-nav"[^>]*>(.*?)</nav>', re.S)
WORKSPACE_NAV = re.compile(r'<nav class="workspace-nav"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)


@pytest.fixture
def demo_catalogue() -> None:
    catalog_demo.seed(rng=random.Random(7))


def workspace_links(html: str) -> list[tuple[str, str]]:
    match = WORKSPACE_NAV.search(html)
    assert match is not None, "the page has no workspace navigation"
    return [(unescape(href), unescape(label).strip()) for href, label in LINK.findall(match.group(1))]


def nav_links(html: str) -> list[tuple[str, str]]:
    match = NAV.search(html)
    assert match is not None, "the page has no main navigation"
    return [(unescape(href), unescape(label).strip()) for href, label in LINK.findall(match.group(1))]


def test_home_shows_every_model_on_sale_in_chinese_by_default(client: Client, demo_catalogue: None) -> None:
    with translation.override("zh-hans"):
        cards = models_for_home()
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans"' in html
    assert "全部车型" in html
    assert len(cards) == 3
    for card in cards:
        assert f'data-model="{card.code}"' in html
        assert card.name in html
        assert card.from_price is not None
        assert card.from_price.format("zh-hans") in html
        assert reverse("catalog:model-detail", args=[card.code]) in html
        entry_trim = next(trim for trim in trims_for_picker() if trim.model.code == card.code)
        assert reverse("catalog:configure", args=[entry_trim.code]) in html
    assert "Our models" not in html


def test_home_speaks_english_to_a_browser_asking_for_english(client: Client, demo_catalogue: None) -> None:
    response = client.get("/", headers={"accept-language": "en"})

    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Our models" in html
    assert "全部车型" not in html
    with translation.override("en"):
        assert all(card.name in html for card in models_for_home())


def test_home_speaks_english_when_the_language_cookie_says_so(client: Client, demo_catalogue: None) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/").content.decode()

    assert "Our models" in html
    labels = [label for _, label in nav_links(html)]
    assert labels == ["Models", "Test drive", "Dealers", "Compare", "Offers", "Sign in"]


def test_chinese_home_has_no_english_navigation_label(client: Client, demo_catalogue: None) -> None:
    html = client.get("/").content.decode()

    labels = [label for _, label in nav_links(html)]
    assert labels == ["车型", "预约试驾", "门店", "对比", "优惠", "登录"]
    assert not ENGLISH_NAV_LABELS & set(labels)


def test_navigation_links_to_each_section(client: Client) -> None:
    links = nav_links(client.get("/?from=test").content.decode())

    assert links == [
        ("/#models", "车型"),
        (reverse("appointments:book-test-drive"), "预约试驾"),
        (reverse("dealers:finder"), "门店"),
        (reverse("catalog:compare"), "对比"),
        (reverse("offers:campaigns"), "优惠"),
        (reverse("accounts:sign-in") + "?next=%2F%3Ffrom%3Dtest", "登录"),
    ]


def test_signed_in_staff_see_their_account_and_the_ops_console(client: Client) -> None:
    staff = User.objects.create_user(
        username="ops-anna", password="not-used-here", role=Role.OPS, is_staff=True
    )
    client.force_login(staff)

    links = nav_links(client.get("/").content.decode())

    assert (reverse("accounts:account"), "我的") in links
    assert ("/ops/", "运营后台") in links
    assert "登录" not in [label for _, label in links]


def test_signed_in_consumer_sees_their_appointments_and_no_ops_console(client: Client) -> None:
    client.force_login(User.objects.create_user(username="li-lei", role=Role.CONSUMER))

    html = client.get("/").content.decode()

    assert nav_links(html) == [
        ("/#models", "车型"),
        ("/test-drive/", "预约试驾"),
        ("/dealers/", "门店"),
        ("/compare/", "对比"),
        ("/offers/", "优惠"),
        ("/appointments/mine/", "我的预约"),
        ("/orders/", "我的订单"),
        ("/offers/mine/", "我的优惠券"),
        ("/club/", "会员"),
        ("/broker/", "推荐有礼"),
        ("/account/", "我的"),
    ]
    assert "workspace-nav" not in html


def test_a_professional_broker_sees_the_broker_centre(client: Client) -> None:
    client.force_login(User.objects.create_user(username="lin-hao", role=Role.BROKER))

    links = nav_links(client.get("/").content.decode())

    assert ("/broker/", "经纪人中心") in links
    assert "会员" not in [label for _, label in links]


def test_ops_without_admin_rights_still_see_the_ops_console_link(client: Client) -> None:
    client.force_login(User.objects.create_user(username="ops-bo", role=Role.OPS))

    links = nav_links(client.get("/").content.decode())

    assert [label for _, label in links] == [
        "车型",
        "预约试驾",
        "门店",
        "对比",
        "优惠",
        "我的",
        "运营后台",
        "补贴审核",
        "经纪人审核",
    ]


def test_anonymous_visitor_sees_no_workspace(client: Client) -> None:
    html = client.get("/test-drive/").content.decode()

    assert WORKSPACE_NAV.search(html) is None
    assert ("/test-drive/", "预约试驾") in nav_links(html)
    assert 'href="/test-drive/" aria-current="page"' in html


def test_sales_staff_get_the_workspace_bar_with_the_current_page_marked(client: Client) -> None:
    advisor = User.objects.create_user(
        username="wang-fang", role=Role.SALES_ADVISOR, dealer=DealerFactory.create()
    )
    client.force_login(advisor)

    html = client.get("/workspace/check-in/").content.decode()

    assert workspace_links(html) == [
        ("/workspace/leads/", "线索"),
        ("/workspace/appointments/", "今日预约"),
        ("/workspace/check-in/", "签到"),
        ("/workspace/orders/", "订单"),
        ("/workspace/vouchers/", "核销"),
        ("/workspace/members/", "会员"),
        ("/workspace/kpi/", "指标"),
    ]
    assert '<a href="/workspace/check-in/" aria-current="page">签到</a>' in html
    assert "工作台" in html
    # Staff are not shown the consumer's own appointment list.
    assert [label for _, label in nav_links(html)] == ["车型", "预约试驾", "门店", "对比", "优惠", "我的"]


def test_service_advisors_get_appointments_but_no_lead_links(client: Client) -> None:
    service = User.objects.create_user(
        username="liu-yang", role=Role.SERVICE_ADVISOR, dealer=DealerFactory.create()
    )
    client.force_login(service)

    html = client.get("/").content.decode()

    assert workspace_links(html) == [
        ("/workspace/appointments/", "今日预约"),
        ("/workspace/check-in/", "签到"),
        ("/workspace/orders/", "订单"),
        ("/workspace/vouchers/", "核销"),
        ("/workspace/members/", "会员"),
    ]


def test_switching_to_english_keeps_the_visitor_on_the_same_page(
    client: Client, demo_catalogue: None
) -> None:
    page = client.get("/?from=campaign").content.decode()
    next_path = unescape(re.search(r'name="next" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]

    switched = client.post(reverse("set_language"), {"language": "en", "next": next_path})

    assert next_path == "/?from=campaign"
    assert switched.status_code == 302
    assert switched["Location"] == "/?from=campaign"
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    english = client.get(switched["Location"]).content.decode()
    assert "Our models" in english
    assert 'name="language" value="zh-hans"' in english


def test_switching_back_to_chinese_works(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    switched = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    assert switched["Location"] == "/"
    assert "全部车型" in client.get("/").content.decode()


def test_home_without_models_says_none_are_on_sale(client: Client) -> None:
    html = client.get("/").content.decode()

    assert "暂无在售车型" in html
    assert 'class="card model-card"' not in html


def test_demo_notice_and_outbox_link_only_in_demo_mode(client: Client) -> None:
    assert "/demo/outbox" not in client.get("/").content.decode()

    with override_settings(DEMO_MODE=True):
        html = client.get("/").content.decode()
        other_page = client.get("/no-such-page/").content.decode()

    assert 'class="notice notice--demo"' in html
    assert 'href="/demo/outbox"' in html
    # Other pages carry a slim ribbon instead, so the sign-in page also says where codes go.
    assert 'class="demo-ribbon"' not in html
    assert 'class="demo-ribbon"' in other_page
    assert 'href="/demo/outbox"' in other_page


def test_unknown_page_is_a_404_html_page(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in response.content.decode()


def test_unknown_api_path_is_a_404_json_error(client: Client) -> None:
    response = client.get("/api/v1/no-such-endpoint")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["code"] == "not_found"
    assert set(body) == {"code", "message", "details"}


def test_unknown_api_path_outside_the_router_is_a_404_json_error(client: Client) -> None:
    response = client.get("/api/nothing-here/")

    assert response.status_code == 404
    assert json.loads(response.content)["code"] == "not_found"


def test_server_error_page_renders_without_the_request_context() -> None:
    request = RequestFactory().get("/models/anything/")

    with translation.override("zh-hans"):
        response = views.server_error(request)

    assert response.status_code == 500
    assert "出错了" in response.content.decode()


def test_server_error_for_the_api_is_json() -> None:
    response = views.server_error(RequestFactory().post("/api/v1/configurations/quote"))

    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"


def test_health_check_needs_no_database(client: Client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert json.loads(response.content) == {"ok": True}
