"""Routing: the chosen dealer, else the nearest sales dealers of the city balanced by load, with reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.dealers.tests.factories import DealerFactory
from forecourt.leads.models import Lead, LeadStatus, RoutingDecision
from forecourt.leads.selectors import sla_policy_current
from forecourt.leads.services.routing import open_lead_counts, routing_choose
from forecourt.leads.tests.conftest import MONDAY_10, capture

pytestmark = pytest.mark.django_db


def _phone(n: int) -> str:
    return f"1390000{n:04d}"


def test_the_dealer_the_person_chose_gets_the_lead(frozen, model, dealer, second_dealer):
    lead, _ = capture(dealer_public_id=second_dealer.public_id)

    assert lead.dealer == second_dealer
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.kind, decision.reason_code, decision.dealer) == (
        "initial",
        "chosen_dealer",
        second_dealer,
    )
    assert decision.reason == "The person chose 上海浦东4S店."
    assert decision.sla_deadline == MONDAY_10 + timedelta(hours=2)


def test_a_chosen_store_that_does_not_sell_passes_the_lead_on_and_says_why(
    frozen, model, dealer, experience_store
):
    lead, _ = capture(dealer_public_id=experience_store.public_id, city_code=None)

    assert lead.dealer == dealer
    assert lead.city is not None and lead.city.code == "shanghai"
    decision = RoutingDecision.objects.get(lead=lead)
    assert decision.reason_code == "city_nearest_balanced"
    assert decision.reason.startswith("上海来福士体验店 does not sell cars, so the lead went to 上海浦西4S店")


def test_without_a_choice_the_nearest_sales_dealer_of_the_city_wins_when_loads_are_equal(
    frozen, model, dealer, second_dealer, third_dealer, experience_store, other_dealer
):
    lead, _ = capture()

    assert lead.dealer == dealer
    decision = RoutingDecision.objects.get(lead=lead)
    assert decision.reason_code == "city_nearest_balanced"
    assert [entry["dealer"] for entry in decision.details["candidates"]] == [
        dealer.public_id,
        second_dealer.public_id,
        third_dealer.public_id,
    ]
    assert decision.details["candidates"][0] == {
        "dealer": dealer.public_id,
        "distance_km": 1.0,
        "open_leads": 0,
        "capacity": 10,
    }
    assert "0 of 10 open leads" in decision.reason


def test_routing_balances_load_against_capacity_among_the_nearest(
    frozen, model, dealer, second_dealer, third_dealer
):
    dealer.lead_capacity = 4
    dealer.save()
    second_dealer.lead_capacity = 20
    second_dealer.save()
    chosen = [capture(phone=_phone(n))[0].dealer_id for n in range(8)]

    # Load ratios (open ÷ capacity) after each lead; the lowest wins, a tie goes to the nearer dealer:
    # 0/4 0/20 0/10 → first; 1/4 0/20 0/10 → second; .25 .05 0 → third; .25 .05 .1 → second;
    # .25 .1 .1 → second (nearer); .25 .15 .1 → third; .25 .15 .2 → second; .25 .2 .2 → second.
    d, s, t = dealer.pk, second_dealer.pk, third_dealer.pk
    assert chosen == [d, s, t, s, s, t, s, s]
    assert open_lead_counts([d, s, t]) == {d: 1, s: 5, t: 2}


def test_a_full_dealer_gets_no_more_leads(frozen, model, dealer, second_dealer):
    dealer.lead_capacity = 1
    dealer.save()
    second_dealer.lead_capacity = 1
    second_dealer.save()
    first, _ = capture(phone=_phone(1))
    second, _ = capture(phone=_phone(2))
    third, _ = capture(phone=_phone(3))

    assert {first.dealer_id, second.dealer_id} == {dealer.pk, second_dealer.pk}
    assert third.status == LeadStatus.OEM_QUEUE
    assert third.oem_queue_reason == "all_at_capacity"


def test_beyond_the_nearest_n_the_least_loaded_of_the_city_is_used(
    frozen, model, city, dealer, second_dealer, third_dealer
):
    for nearby in (dealer, second_dealer, third_dealer):
        nearby.lead_capacity = 1
        nearby.save()
    far = DealerFactory(name="上海嘉定4S店", city=city, latitude=city.latitude + 1, lead_capacity=5)
    leads = [capture(phone=_phone(n))[0] for n in range(4)]

    assert leads[3].dealer == far
    assert RoutingDecision.objects.get(lead=leads[3]).reason_code == "city_wide_balanced"


def test_a_city_without_sales_dealers_uses_the_nearest_city_within_reach(
    frozen, model, other_city, experience_store
):
    from forecourt.dealers.tests.factories import CityFactory

    suzhou = CityFactory(code="suzhou", name="苏州", latitude="31.298886", longitude="120.585316")
    nearby = DealerFactory(name="苏州园区4S店", city=suzhou)
    lead, _ = capture()  # Shanghai has only the experience store; Suzhou is ~85 km away

    assert lead.dealer == nearby
    assert RoutingDecision.objects.get(lead=lead).reason_code == "nearest_other_city"


def test_no_dealer_within_reach_sends_the_lead_to_the_oem_queue(frozen, model, city, other_dealer):
    # Hangzhou is ~165 km from Shanghai: further than a person would be sent.
    lead, _ = capture()

    assert lead.status == LeadStatus.OEM_QUEUE
    assert lead.dealer is None
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.kind, decision.reason_code) == ("oem_queue", "no_dealer")


def test_no_city_and_no_dealer_means_the_oem_queue(frozen, model, dealer):
    lead, _ = capture(city_code=None)

    assert lead.status == LeadStatus.OEM_QUEUE
    assert lead.oem_queue_reason == "no_city"


def test_routing_choose_skips_excluded_dealers(db, city, dealer, second_dealer):
    choice = routing_choose(
        city=city,
        chosen_dealer=dealer,
        policy=sla_policy_current(),
        exclude_dealer_ids=frozenset({dealer.pk}),
    )

    assert choice.dealer == second_dealer


def test_every_routed_lead_is_open_at_its_dealer_only(frozen, model, dealer, second_dealer):
    for n in range(6):
        capture(phone=_phone(n))

    assert Lead.objects.filter(dealer__isnull=True).exclude(status=LeadStatus.OEM_QUEUE).count() == 0
    assert RoutingDecision.objects.count() == 6
