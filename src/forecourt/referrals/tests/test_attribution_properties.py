"""Properties of attribution (Hypothesis): the window is respected to the second, whatever its length, and
of many brokers' links reaching one lead, the first valid one is credited and stays credited."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.referrals.models import Broker, BrokerStatus, Referral
from forecourt.referrals.selectors import referral_for_lead
from forecourt.referrals.services import referral_attribute
from forecourt.referrals.services.attribution import CLOCK_SKEW

from .referrals_cast import *  # noqa: F403
from .referrals_cast import consumer, make_broker

pytestmark = pytest.mark.django_db

_leads = itertools.count(1)
DAY = 24 * 3600


def _lead_id() -> str:
    return f"ld_PROP{next(_leads):010d}"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    window_days=st.integers(min_value=1, max_value=60),
    # How long before the lead the link was opened, in seconds (negative: "after", a clock skew).
    opened_before=st.one_of(
        st.integers(min_value=-3600, max_value=70 * DAY),
        # The window's edges, where an off-by-one would hide.
        st.sampled_from([0, DAY - 1, DAY, DAY + 1]).flatmap(
            lambda near: st.integers(min_value=1, max_value=60).map(lambda days: days * DAY + near - DAY)
        ),
    ),
)
def test_a_lead_is_credited_exactly_when_the_click_is_within_the_window(
    frozen, broker, settings, window_days, opened_before
):
    settings.REFERRALS_ATTRIBUTION_DAYS = window_days
    settings.REFERRALS_DAILY_LIMIT = 10_000
    friend = consumer("13912345678", "王芳")
    lead_id = _lead_id()
    at = clock.now()

    referral = referral_attribute(
        lead_public_id=lead_id,
        person_public_id=friend.public_id,
        broker_code=broker.code,
        clicked_at=at - timedelta(seconds=opened_before),
        at=at,
    )

    inside = -CLOCK_SKEW.total_seconds() <= opened_before <= window_days * DAY
    assert (referral is not None) is inside
    assert Referral.objects.filter(lead_public_id=lead_id).exists() is inside
    if inside:
        assert referral is not None and (referral.broker_id, referral.stage) == (broker.pk, "referred")


@st.composite
def _attempts(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Links of brokers 0–3 reaching one lead, in time order: (broker, days since the link was opened)."""
    return draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=45)),
            min_size=1,
            max_size=6,
        )
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(attempts=_attempts(), suspended=st.sets(st.integers(min_value=0, max_value=3), max_size=2))
def test_the_first_valid_broker_wins_and_keeps_the_lead(frozen, city, settings, attempts, suspended):
    settings.REFERRALS_ATTRIBUTION_DAYS = 30
    settings.REFERRALS_DAILY_LIMIT = 10_000
    run = next(_leads)
    brokers: list[Broker] = []
    for index in range(4):
        broker = make_broker(consumer(f"1370000{run % 1000:03d}{index}", f"经纪人{index}"), city=city)
        if index in suspended:
            broker.status = BrokerStatus.SUSPENDED
            broker.save(update_fields=["status"])
        brokers.append(broker)
    friend = consumer(f"1390000{run % 1000:03d}9", "王芳")
    lead_id = _lead_id()

    expected: Broker | None = None
    for step, (index, days_ago) in enumerate(attempts):
        at = clock.now() + timedelta(minutes=step)
        referral_attribute(
            lead_public_id=lead_id,
            person_public_id=friend.public_id,
            broker_code=brokers[index].code,
            clicked_at=at - timedelta(days=days_ago),
            at=at,
        )
        valid = index not in suspended and days_ago <= 30
        if expected is None and valid:
            expected = brokers[index]
        credited = referral_for_lead(lead_id)
        # After every step: the first valid broker so far, and nobody before one came.
        assert (credited.broker_id if credited else None) == (expected.pk if expected else None)

    assert Referral.objects.filter(lead_public_id=lead_id).count() == (1 if expected else 0)
