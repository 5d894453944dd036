"""The dealer finder as a person on a phone uses it: choose a city, filter, compare, open a store."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from forecourt.dealers.geo import destination_point
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _at(city, distance_km: float, bearing: float, **fields):
    lat, lng = destination_point(float(city.latitude), float(city.longitude), distance_km, bearing)
    return DealerFactory.create(
        city=city, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"), **fields
    )


@pytest.fixture
def hangzhou_stores():
    city = hangzhou()
    shanghai()
    stores = {
        "dealer": _at(city, 6.2, 200, name="杭州西湖瑞丰汽车4S店"),
        "mall": _at(city, 1.4, 80, name="杭州湖滨银泰体验店", experience_store=True),
        "delivery": _at(city, 3.8, 10, name="杭州拱墅交付中心", delivery_centre=True),
        "service": _at(city, 0.9, 300, name="杭州滨江服务中心", service_centre=True),
    }
    return stores


def _distances(page) -> list[float]:
    return [
        float(value)
        for value in page.locator(".dealer-result").evaluate_all(
            "items => items.map(item => item.dataset.distanceKm)"
        )
    ]


def test_find_a_test_drive_in_hangzhou_and_open_the_store(live_server, phone_viewport_page, hangzhou_stores):
    page = phone_viewport_page
    page.goto(f"{live_server.url}/dealers/")
    expect(page.locator("h1")).to_have_text("查找经销商")

    page.select_option("#city", "hangzhou")
    expect(page.locator("#dealer-results .dealer-result")).to_have_count(4)

    page.select_option("#service", "test_drive")
    results = page.locator("#dealer-results .dealer-result")
    expect(results).to_have_count(3)
    expect(page.locator("#dealer-results")).not_to_contain_text("杭州滨江服务中心")
    distances = _distances(page)
    assert distances == sorted(distances)
    assert distances == [1.4, 3.8, 6.2]
    expect(page).to_have_url(re.compile(r"/dealers/\?city=hangzhou&service=test_drive$"))
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    results.first.get_by_role("link", name="杭州湖滨银泰体验店").click()
    expect(page).to_have_url(f"{live_server.url}/dealers/{hangzhou_stores['mall'].public_id}/")
    expect(page.locator("h1")).to_have_text("杭州湖滨银泰体验店")
    expect(page.locator(".dealer-detail__services")).to_have_text("试驾")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_use_my_location_lists_the_nearest_stores(live_server, phone_viewport_page, hangzhou_stores):
    page = phone_viewport_page
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    # Standing at the delivery centre.
    delivery = hangzhou_stores["delivery"]
    page.context.set_geolocation(
        {"latitude": float(delivery.latitude), "longitude": float(delivery.longitude)}
    )
    page.goto(f"{live_server.url}/dealers/")

    page.click("#use-location")

    expect(page.locator("#dealer-results .dealer-result")).to_have_count(4)
    expect(page.locator("#dealer-results .dealer-result").first).to_have_attribute("data-distance-km", "0.00")
    distances = _distances(page)
    assert distances == sorted(distances)
    expect(page.locator("#city")).to_have_value("")
