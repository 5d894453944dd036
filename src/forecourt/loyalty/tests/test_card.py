"""The member card's QR code: signed and dated, read back to the card number; forged, altered and stale
codes refused; a typed card number accepted; staff lookups rate limited and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from forecourt.accounts.models import Role
from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound, RateLimited
from forecourt.core.models import AuditEntry
from forecourt.core.ratelimit import rate_limits_clear
from forecourt.loyalty.card import (
    PAYLOAD_PATTERN,
    card_member,
    card_number_display,
    card_number_read,
    card_payload,
)
from forecourt.loyalty.services import member_card_lookup, member_for
from forecourt.loyalty.services.members import LOOKUPS_PER_STAFF

from .members_cast import MONDAY_10, make_member, make_ops, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_fresh_limits():
    rate_limits_clear()
    with translation.override("en"), clock.frozen_at(MONDAY_10):
        yield


def test_the_payload_carries_the_card_number_and_reads_back(db):
    member = make_member()
    payload = card_payload(member)
    assert payload.startswith(f"FCM1.{member.number}.{int(MONDAY_10.timestamp())}:")
    assert PAYLOAD_PATTERN.match(payload)
    assert card_number_read(payload) == member.number
    assert card_member(payload) == member


def test_a_forged_or_altered_code_is_refused(db):
    member, other = make_member(), make_member("李四")
    payload = card_payload(member)
    forged = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    altered = payload.replace(member.number, other.number)
    for text in (forged, altered, "FCM1.garbage", "https://example.com/", "x" * 161, "   "):
        with pytest.raises(DomainError) as refused:
            card_number_read(text)
        assert (refused.value.code, refused.value.status, refused.value.details) == (
            "invalid_card",
            422,
            {"field": "code"},
        )


def test_a_code_older_than_half_an_hour_has_expired(db):
    member = make_member()
    payload = card_payload(member)
    clock.advance(timedelta(minutes=29))
    assert card_number_read(payload) == member.number
    clock.advance(timedelta(minutes=2))
    with pytest.raises(DomainError) as expired:
        card_number_read(payload)
    assert (expired.value.code, expired.value.status) == ("card_expired", 422)
    with clock.frozen_at(clock.now() + timedelta(minutes=10)):
        ahead = card_payload(member)
    # A code dated well ahead of the server's clock is no screenshot from a phone a little fast: refused.
    with pytest.raises(DomainError) as future:
        card_number_read(ahead)
    assert future.value.code == "card_expired"


def test_a_typed_card_number_is_read_as_printed_in_any_case_and_spacing(db):
    member = make_member()
    printed = card_number_display(member.number)
    assert printed.replace(" ", "") == member.number
    assert card_member(printed.lower()) == member
    with pytest.raises(NotFound):
        card_member("0000 0000 0000")


def test_staff_identify_a_member_and_the_lookup_is_audited(db):
    member, staff = make_member(), make_staff()
    assert staff.dealer is not None
    found = member_card_lookup(staff=staff, text=card_payload(member), ip="10.0.0.8")
    assert found == member
    entry = AuditEntry.objects.get(action="loyalty.member_card_looked_up")
    assert (entry.object_id, entry.details["dealer"]) == (member.number, staff.dealer.public_id)
    assert member_card_lookup(staff=make_ops(), text=member.number) == member


def test_members_and_unknown_people_cannot_look_up_cards(db):
    member = make_member()
    with pytest.raises(DomainError) as refused:
        member_card_lookup(staff=make_member("李四").user, text=member.number)
    assert refused.value.status == 403
    staff_member = member_for(make_staff(role=Role.DEALER_MANAGER))
    with pytest.raises(NotFound):
        member_card_lookup(staff=make_staff(), text=staff_member.number)
    assert not AuditEntry.objects.filter(action="loyalty.member_card_looked_up").exists()


def test_typing_card_numbers_one_after_another_is_stopped(db):
    staff = make_staff()
    for _attempt in range(LOOKUPS_PER_STAFF):
        with pytest.raises(NotFound):
            member_card_lookup(staff=staff, text="0000 0000 0000")
    member = make_member()
    with pytest.raises(RateLimited):
        member_card_lookup(staff=staff, text=member.number)
    assert not AuditEntry.objects.filter(action="loyalty.member_card_looked_up").exists()
