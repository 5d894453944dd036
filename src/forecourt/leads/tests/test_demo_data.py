"""The demo leads: every pipeline state, consistent history, room left for routing, the demo dealer busy."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count

from forecourt.accounts import demo_data as accounts_demo
from forecourt.catalog import demo_data as catalog_demo
from forecourt.core.models import Event
from forecourt.dealers import demo_data as dealers_demo
from forecourt.dealers.models import Dealer
from forecourt.leads import demo_data
from forecourt.leads.models import ContactAttempt, DefeatReview, Lead, LeadStatus, RoutingDecision, Touchpoint
from forecourt.leads.services.routing import open_lead_counts

pytestmark = pytest.mark.django_db


def test_the_demo_leads_are_complete_consistent_and_leave_room_for_routing(monkeypatch):
    # One seeding for all the checks: seeding the network, catalogue and people takes seconds.
    monkeypatch.setattr(demo_data, "LEAD_COUNT", 900)
    rng = random.Random(20261122)
    for module in (dealers_demo, catalog_demo, accounts_demo, demo_data):
        module.seed(rng=rng)
    _every_state_with_history()
    _demo_dealer_busy_with_room_left()
    before = Lead.objects.count()
    demo_data.seed(rng=random.Random(1))
    assert Lead.objects.count() == before


def _every_state_with_history() -> None:
    counts = dict(Lead.objects.values_list("status").annotate(n=Count("id")))

    assert 900 < sum(counts.values()) <= 900 + demo_data.FRESH_AT_FIRST_DEALER
    assert set(counts) == set(LeadStatus.values)
    assert Touchpoint.objects.values("lead").distinct().count() == Lead.objects.count()
    assert RoutingDecision.objects.values("lead").distinct().count() == Lead.objects.count()
    # Every defeat has its evidence: a logged call and an approved review.
    for lead in Lead.objects.filter(status=LeadStatus.DEFEATED):
        assert ContactAttempt.objects.filter(lead=lead, dealer=lead.dealer).exists()
        assert DefeatReview.objects.filter(lead=lead, decision="approved").exists()
    assert DefeatReview.objects.filter(decision="pending").exists()
    assert (
        Lead.objects.filter(status__in=["contacted", "visited"], first_contacted_at__isnull=True).count() == 0
    )
    assert Event.objects.filter(name="lead.created").count() == Lead.objects.count()
    sites = set(Touchpoint.objects.values_list("source_site", flat=True))
    assert {"autohome", "dongchedi", "yiche", "douyin"} <= sites


def _demo_dealer_busy_with_room_left() -> None:
    first = Dealer.objects.order_by("id").first()
    mine = Lead.objects.filter(dealer=first)

    assert mine.count() >= 40
    assert mine.filter(advisor__username="demo-sales").exists()
    assert mine.filter(status__in=["new", "assigned"], first_contacted_at__isnull=True).count() >= 4
    dealers = Dealer.objects.filter(offers_sales=True)
    loads = open_lead_counts(dealer.pk for dealer in dealers)
    assert all(loads[dealer.pk] < dealer.lead_capacity for dealer in dealers)
