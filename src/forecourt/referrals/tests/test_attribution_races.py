"""Real concurrency on PostgreSQL (each thread its own connection, released together by a barrier): a
broker's referrals racing past the daily limit, brokers racing for one lead, clawbacks racing for one
task commission. None may end with more than the rules allow."""

from __future__ import annotations

from collections import Counter

import pytest
from django.conf import settings as django_settings

from forecourt.accounts.models import Role, User
from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.referrals.models import (
    Commission,
    CommissionKind,
    CommissionStatus,
    Referral,
    Stage,
    Task,
)
from forecourt.referrals.services import commission_claw_back, commission_record, referral_attribute

from .races import race
from .referrals_cast import *  # noqa: F403
from .referrals_cast import consumer, delivery_task_with_one_result, make_broker

POSTGRES = django_settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db(transaction=True),
]


def _friends(count: int) -> list[User]:
    User.objects.bulk_create(
        [User(username=f"race-friend-{index}", role=Role.CONSUMER, password="!") for index in range(count)]
    )
    return list(User.objects.filter(username__startswith="race-friend-").order_by("pk"))


def test_referrals_racing_past_the_daily_limit_stop_exactly_at_it(frozen, broker, settings):
    settings.REFERRALS_DAILY_LIMIT = 10
    friends = _friends(30)

    def attribute(person: User) -> str:
        referral = referral_attribute(
            lead_public_id=f"ld_RACE{person.pk:010d}",
            person_public_id=person.public_id,
            broker_code=broker.code,
            clicked_at=None,
            at=clock.now(),
        )
        return referral.stage if referral else "none"

    outcomes = race(friends, attribute)

    assert outcomes == Counter({Stage.REFERRED: 10, Stage.REJECTED: 20})
    assert Referral.objects.filter(stage=Stage.REFERRED).count() == 10
    assert set(Referral.objects.filter(stage=Stage.REJECTED).values_list("rejection", flat=True)) == {
        "velocity"
    }


def test_brokers_racing_for_one_lead_leave_exactly_one_referral(frozen, city):
    brokers = [make_broker(consumer(f"1370000000{index}", f"经纪人{index}"), city=city) for index in range(4)]
    friend = consumer("13912345678", "王芳")
    attempts = [brokers[index % 4] for index in range(16)]

    outcomes = race(
        attempts,
        lambda broker: (
            "credited"
            if referral_attribute(
                lead_public_id="ld_ONELEAD",
                person_public_id=friend.public_id,
                broker_code=broker.code,
                clicked_at=None,
                at=clock.now(),
            )
            else "none"
        ),
    )

    assert outcomes == Counter({"credited": 16})
    assert Referral.objects.filter(lead_public_id="ld_ONELEAD").count() == 1
    assert Event.objects.filter(name="referral.created").count() == 1


def test_clawbacks_racing_for_one_task_commission_give_its_money_back_once(frozen, broker):
    friend = consumer("13912345678", "王芳")
    referral = referral_attribute(
        lead_public_id="ld_CLAW",
        person_public_id=friend.public_id,
        broker_code=broker.code,
        clicked_at=None,
        at=clock.now(),
    )
    assert referral is not None
    task = delivery_task_with_one_result(title="交付任务", amount_fen=500_00, kind=CommissionKind.CPS)
    commission, _created = commission_record(
        referral=referral,
        kind=CommissionKind.CPS,
        amount_fen=500_00,
        available_at=frozen,
        idempotency_key="task:race",
        task=task,
    )

    outcomes = race(
        list(range(12)),
        lambda _index: commission_claw_back(commission=commission.pk, reason="order_returned").status,
    )

    assert outcomes == Counter({CommissionStatus.CLAWED_BACK: 12})
    assert Task.objects.get(pk=task.pk).committed_fen == 0
    assert Commission.objects.get(pk=commission.pk).status == CommissionStatus.CLAWED_BACK
    assert Event.objects.filter(name="commission.clawed_back").count() == 1
