import pytest
from django.contrib.auth import get_user_model

from forecourt.core.models import AuditEntry
from forecourt.dealers.models import Dealer
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    person = get_user_model().objects.create_superuser(
        username="ops", password="a-long-ops-password", role="ops"
    )
    client.force_login(person)
    return person


def test_dealer_list_filters_by_kind_province_and_city(client, ops):
    DealerFactory.create(city=hangzhou(), name="杭州西湖瑞丰汽车4S店")
    DealerFactory.create(city=shanghai(), name="上海前滩太古里体验店", experience_store=True)
    assert client.get("/ops/dealers/dealer/").status_code == 200

    by_kind = client.get("/ops/dealers/dealer/", {"kind__exact": "experience_store"}).content.decode()
    assert "上海前滩太古里体验店" in by_kind
    assert "杭州西湖瑞丰汽车4S店" not in by_kind

    by_province = client.get("/ops/dealers/dealer/", {"city__province": "浙江"}).content.decode()
    assert "杭州西湖瑞丰汽车4S店" in by_province
    assert "上海前滩太古里体验店" not in by_province

    searched = client.get("/ops/dealers/dealer/", {"q": "太古里"}).content.decode()
    assert "上海前滩太古里体验店" in searched
    assert "杭州西湖瑞丰汽车4S店" not in searched


def test_city_list_and_search(client, ops):
    hangzhou()
    response = client.get("/ops/dealers/city/", {"q": "Hangzhou"})
    assert response.status_code == 200
    assert "杭州" in response.content.decode()


def test_dealer_page_shows_staff_read_only(client, ops):
    dealer = DealerFactory.create(city=hangzhou())
    get_user_model().objects.create(
        username="advisor", display_name="王芳", role="sales_advisor", dealer=dealer
    )
    response = client.get(f"/ops/dealers/dealer/{dealer.pk}/change/")
    assert response.status_code == 200
    assert "王芳" in response.content.decode()


def test_editing_a_dealer_is_audited(client, ops):
    dealer = DealerFactory.create(city=hangzhou())
    form = {
        "name": "杭州滨江信达汽车4S店",
        "kind": "dealer_4s",
        "is_active": "on",
        "city": dealer.city.pk,
        "address": dealer.address,
        "latitude": "30.210000",
        "longitude": "120.210000",
        "phone": dealer.phone,
        "opening_hours": '{"mon": ["09:00", "21:00"]}',
        "offers_sales": "on",
        "offers_test_drive": "on",
        "offers_delivery": "on",
        "offers_service": "on",
        "lead_capacity": "90",
        "demo_car_count": "5",
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
    }
    response = client.post(f"/ops/dealers/dealer/{dealer.pk}/change/", form)
    assert response.status_code == 302
    dealer.refresh_from_db()
    assert dealer.name == "杭州滨江信达汽车4S店"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id, entry.actor) == (
        "dealer.changed",
        "dealer",
        dealer.public_id,
        ops,
    )
    assert "name" in entry.details["fields"]


def test_the_admin_refuses_an_experience_store_that_sells(client, ops):
    city = hangzhou()
    form = {
        "name": "杭州湖滨银泰体验店",
        "kind": "experience_store",
        "is_active": "on",
        "city": city.pk,
        "address": "杭州市上城区湖滨银泰in77 L1-08",
        "latitude": "30.260000",
        "longitude": "120.160000",
        "opening_hours": "{}",
        "offers_sales": "on",
        "lead_capacity": "30",
        "demo_car_count": "1",
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
    }
    response = client.post("/ops/dealers/dealer/add/", form)
    assert response.status_code == 200
    assert Dealer.objects.count() == 0
    assert AuditEntry.objects.count() == 0
