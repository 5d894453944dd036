from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.middleware import RequestContextMiddleware, current_ip
from forecourt.core.models import AuditEntry

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 22, 12, 0)


def test_an_entry_records_actor_action_object_time_and_details():
    ops = get_user_model().objects.create_user(username="ops_li", password="unused-password-1")
    with clock.frozen_at(NOON):
        entry = audit_record(
            actor=ops,
            action="price_list.published",
            object_type="price_list",
            object_id="pl_7K3M",
            details={"version": 3},
            ip_address="192.0.2.10",
        )
    stored = AuditEntry.objects.get()
    assert stored.pk == entry.pk
    assert stored.actor == ops
    assert stored.actor_label == "ops_li"
    assert (stored.action, stored.object_type, stored.object_id) == (
        "price_list.published",
        "price_list",
        "pl_7K3M",
    )
    assert stored.details == {"version": 3}
    assert stored.ip_address == "192.0.2.10"
    assert stored.at == NOON.replace(tzinfo=clock.SHANGHAI)


@pytest.mark.parametrize(("actor", "label"), [(None, "system"), ("sweeper", "sweeper")])
def test_a_system_actor_is_recorded_by_label(actor, label):
    entry = audit_record(actor=actor, action="events.swept")
    assert entry.actor is None
    assert entry.actor_label == label
    assert entry.ip_address is None
    assert entry.details == {}


def test_the_ip_comes_from_the_current_request():
    def view(request):
        entry = audit_record(actor=None, action="phone.unmasked", object_type="user", object_id="usr_1")
        return HttpResponse(str(entry.pk))

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    response = RequestContextMiddleware(view)(request)
    assert AuditEntry.objects.get(pk=int(response.content)).ip_address == "203.0.113.7"
    assert current_ip() is None  # the request's address does not leak into later work


def test_an_entry_in_a_rolled_back_transaction_leaves_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="order.cancelled", object_id="od_1")
        raise RuntimeError("the service failed")
    assert AuditEntry.objects.count() == 0
