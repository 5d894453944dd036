"""The ops console: every catalogue model is editable; publishing is an explicit admin action."""

import pytest
from django.contrib.auth import get_user_model

from forecourt.catalog.models import PriceList, PriceListStatus
from forecourt.catalog.tests.factories import draft_with_changes
from forecourt.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    ops = get_user_model().objects.create_superuser(
        username="ops-zhao", password="x" * 12, email="", role="ops"
    )
    client.force_login(ops)
    client.ops = ops
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/ops/catalog/vehiclemodel/",
        "/ops/catalog/trim/",
        "/ops/catalog/option/",
        "/ops/catalog/pricelist/",
        "/ops/catalog/savedconfiguration/",
    ],
)
def test_catalogue_lists_open_in_the_ops_console(ops_client, catalogue, path):
    assert ops_client.get(path).status_code == 200


def test_change_pages_with_inlines_open(ops_client, catalogue):
    assert ops_client.get(f"/ops/catalog/vehiclemodel/{catalogue.model.pk}/change/").status_code == 200
    assert ops_client.get(f"/ops/catalog/trim/{catalogue.std.pk}/change/").status_code == 200
    assert ops_client.get(f"/ops/catalog/option/{catalogue.options['pilot'].pk}/change/").status_code == 200
    assert ops_client.get(f"/ops/catalog/pricelist/{catalogue.price_list.pk}/change/").status_code == 200


def test_publish_action_publishes_and_audits_with_the_ops_user(ops_client, catalogue):
    draft = draft_with_changes(catalogue, version=2, changes={"aurora-std": 232_900})

    response = ops_client.post(
        "/ops/catalog/pricelist/", {"action": "publish", "_selected_action": [draft.pk]}, follow=True
    )

    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.status, draft.published_by) == (PriceListStatus.PUBLISHED, ops_client.ops)
    assert PriceList.objects.get(version=1).status == PriceListStatus.RETIRED
    entry = AuditEntry.objects.get(action="catalog.price_list_published", object_id="2")
    assert entry.actor == ops_client.ops


def test_publish_action_reports_a_refusal_and_changes_nothing(ops_client, catalogue):
    draft = draft_with_changes(catalogue, version=2, changes={})
    draft.items.filter(option__code="hud").delete()

    response = ops_client.post(
        "/ops/catalog/pricelist/", {"action": "publish", "_selected_action": [draft.pk]}, follow=True
    )

    assert "hud" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == PriceListStatus.DRAFT
    assert not AuditEntry.objects.filter(action="catalog.price_list_published", object_id="2").exists()


def test_copy_as_draft_action(ops_client, catalogue):
    ops_client.post(
        "/ops/catalog/pricelist/", {"action": "copy_as_draft", "_selected_action": [catalogue.price_list.pk]}
    )

    draft = PriceList.objects.get(version=2)
    assert draft.status == PriceListStatus.DRAFT
    assert draft.items.count() == catalogue.price_list.items.count()
