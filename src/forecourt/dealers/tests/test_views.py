import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from forecourt.dealers.geo import destination_point
from forecourt.dealers.tests.factories import CityFactory, DealerFactory, hangzhou, shanghai

pytestmark = pytest.mark.django_db


def _at(city, distance_km: float, bearing: float = 90, **fields):
    lat, lng = destination_point(float(city.latitude), float(city.longitude), distance_km, bearing)
    return DealerFactory.create(
        city=city, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"), **fields
    )


def _distances(html: str) -> list[float]:
    return [float(value) for value in re.findall(r'class="dealer-result" data-distance-km="([0-9.]+)"', html)]


def test_url_names_are_published():
    assert reverse("dealers:finder") == "/dealers/"
    assert reverse("dealers:finder-results") == "/dealers/results/"
    assert reverse("dealers:dealer-detail", args=["dlr_ABC"]) == "/dealers/dlr_ABC/"


def test_finder_page_is_chinese_by_default_with_cities_grouped_by_province(client):
    hangzhou()
    shanghai()
    CityFactory.create(code="ningbo", name="宁波", name_en="Ningbo", province="浙江", province_en="Zhejiang")
    response = client.get("/dealers/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans"' in html
    assert "查找经销商" in html
    assert 'id="city"' in html
    assert 'id="service"' in html
    assert 'id="dealer-results"' in html
    assert '<optgroup label="浙江">' in html
    assert html.index('value="hangzhou"') < html.index('value="ningbo"')
    assert '<option value="test_drive">试驾</option>' in html
    assert 'hx-get="/dealers/results/"' in html


def test_finder_page_in_english(client):
    hangzhou()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/dealers/").content.decode()
    assert "Find a dealer" in html
    assert '<optgroup label="Zhejiang">' in html
    assert ">Hangzhou</option>" in html


def test_results_partial_lists_dealers_nearest_first(client):
    hz = hangzhou()
    _at(hz, 6)
    _at(hz, 2, experience_store=True)
    _at(hz, 4, service_centre=True)
    response = client.get(
        "/dealers/results/", {"city": "hangzhou", "service": "test_drive"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert _distances(html) == [2.0, 6.0]
    assert "体验店" in html
    assert 'href="tel:057187654321"' in html
    assert response["HX-Push-Url"] == "/dealers/?city=hangzhou&service=test_drive"


def test_results_from_a_position(client):
    hz = hangzhou()
    _at(hz, 3)
    _at(shanghai(), 0)
    html = client.get("/dealers/results/", {"lat": "30.274084", "lng": "120.155070"}).content.decode()
    assert _distances(html)[0] == 3.0
    assert len(_distances(html)) == 2


def test_finder_page_renders_results_without_javascript(client):
    _at(hangzhou(), 1)
    html = client.get("/dealers/", {"city": "hangzhou"}).content.decode()
    assert _distances(html) == [1.0]
    assert '<option value="hangzhou" selected>' in html


def test_no_search_yet_shows_a_prompt(client):
    html = client.get("/dealers/results/").content.decode()
    assert 'class="muted dealer-prompt"' in html
    assert _distances(html) == []


def test_invalid_input_shows_the_problem_and_no_results(client):
    _at(hangzhou(), 1)
    response = client.get("/dealers/results/", {"lat": "abc", "lng": "120"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert _distances(html) == []


def test_a_city_without_the_service_suggests_stores_elsewhere(client):
    hz, sh = hangzhou(), shanghai()
    _at(hz, 1, experience_store=True)
    in_shanghai = _at(sh, 1)
    html = client.get("/dealers/results/", {"city": "hangzhou", "service": "sales"}).content.decode()
    assert "dealer-empty" in html
    assert "其他城市" in html
    assert in_shanghai.public_id in html


def test_dealer_page_shows_the_store(client):
    dealer = DealerFactory.create(
        city=hangzhou(),
        name="杭州西湖瑞丰汽车4S店",
        address="杭州市西湖区文三路388号",
        opening_hours={day: ["08:30", "18:30"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    response = client.get(f"/dealers/{dealer.public_id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "杭州西湖瑞丰汽车4S店" in html
    assert "杭州市西湖区文三路388号" in html
    assert 'href="tel:057187654321"' in html
    assert "08:30–18:30" in html
    assert "4S店" in html


def test_dealer_page_404s_for_unknown_ids_and_database_keys(client):
    dealer = DealerFactory.create(city=hangzhou())
    assert client.get("/dealers/dlr_NOSUCHDEALER0000/").status_code == 404
    assert client.get(f"/dealers/{dealer.pk}/").status_code == 404
