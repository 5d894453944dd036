"""Real concurrency on PostgreSQL: 1,000 simultaneous write-offs of one voucher from 50 staff sessions.

50 threads, each its own database connection and its own staff member (of two dealers: a gift voucher
may be written off at any dealer), each making 20 attempts with its own idempotency key, released
together by a barrier through the real service. Exactly one write-off stands; the other 999 are
409 `already_redeemed` naming the first one's time and place.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from forecourt.accounts.models import Role, User
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.ratelimit import rate_limits_clear
from forecourt.dealers.tests.factories import DealerFactory, shanghai
from forecourt.offers.models import CouponKind, Redemption, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim, voucher_redeem
from forecourt.offers.tests.factories import make_campaign, make_consumer

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db(transaction=True),
]

SESSIONS = 50
ATTEMPTS = 20


def test_a_thousand_simultaneous_write_offs_of_one_voucher_redeem_it_exactly_once(settings) -> None:
    # The race is about the voucher, not the anti-probing limits: lift them for this run.
    settings.OFFERS_LOOKUP_LIMIT_PER_STAFF = 10_000
    settings.OFFERS_LOOKUP_LIMIT_PER_PLACE = 10_000
    settings.OFFERS_LOOKUP_LIMIT_PER_IP = 10_000
    rate_limits_clear()
    campaign = make_campaign(kind=CouponKind.GIFT, face_value_fen=500_00, gift_description="保养券")
    voucher = campaign_claim(campaign=campaign, holder=make_consumer())
    dealers = [DealerFactory.create(city=shanghai()), DealerFactory.create(city=shanghai())]
    User.objects.bulk_create(
        [
            User(
                username=f"race-staff-{index}",
                role=Role.SALES_ADVISOR,
                dealer=dealers[index % 2],
                password="!",
            )
            for index in range(SESSIONS)
        ]
    )
    staff = list(
        User.objects.filter(username__startswith="race-staff-").select_related("dealer").order_by("pk")
    )
    barrier = threading.Barrier(SESSIONS)
    outcomes: Counter[str] = Counter()
    details: list[Any] = []
    lock = threading.Lock()

    def session(member: User, number: int) -> None:
        try:
            barrier.wait()
            for attempt in range(ATTEMPTS):
                try:
                    voucher_redeem(
                        staff=member, text=voucher.code, idempotency_key=f"scan-{number}-{attempt}"
                    )
                    outcome = "redeemed"
                except DomainError as error:
                    outcome = error.code
                    if error.code == "already_redeemed":
                        with lock:
                            details.append(error.details)
                with lock:
                    outcomes[outcome] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=session, args=(member, index)) for index, member in enumerate(staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == Counter({"redeemed": 1, "already_redeemed": SESSIONS * ATTEMPTS - 1})
    standing = Redemption.objects.get(voucher=voucher)
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.REDEEMED
    assert Event.objects.filter(name="voucher.redeemed", subject_id=voucher.code).count() == 1
    first = {
        "redeemed_at": standing.redeemed_at.astimezone(clock.SHANGHAI).isoformat(),
        "place": standing.place,
    }
    assert len(details) == SESSIONS * ATTEMPTS - 1
    assert all(detail == first for detail in details)
