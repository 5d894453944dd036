"""The broker pages: the link a friend opens, becoming a broker, the dashboard with links per model, every
referral with its stage, and the poster with its QR code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.middleware import DEVICE_COOKIE
from forecourt.leads.referral_mark import REFERRAL_COOKIE, referral_mark_set
from forecourt.referrals.models import Broker, BrokerDevice, BrokerStatus, Referral, ReferralClick, Stage

from .referrals_cast import *  # noqa: F403
from .referrals_cast import FRIEND_PHONE, capture, committed, consumer, make_order, mark_delivered

pytestmark = pytest.mark.django_db

FRIENDS_DEVICE = "friendsbrowser0000000001"


def _mark_of(client: Client) -> tuple[str, int] | None:
    morsel = client.cookies.get(REFERRAL_COOKIE)
    if morsel is None or not morsel.value:
        return None
    value = signing.Signer(salt="forecourt.leads.referral-mark").unsign(morsel.value)
    code, _sep, stamp = value.rpartition(".")
    return code, int(stamp)


def _friend_client() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[DEVICE_COOKIE] = FRIENDS_DEVICE
    return client


def _set_mark(client: Client, code: str, clicked_at) -> None:
    from django.http import HttpResponse

    response = HttpResponse()
    referral_mark_set(response, broker_code=code, clicked_at=clicked_at, max_age=3600)
    client.cookies[REFERRAL_COOKIE] = response.cookies[REFERRAL_COOKIE].value


def test_the_link_shows_the_invitation_marks_the_browser_and_records_the_click(frozen, dealer, model, broker):
    client = _friend_client()

    response = client.get(f"/r/{broker.code}/?m=aurora")

    page = response.content.decode()
    assert response.status_code == 200
    assert "林浩 invites you to test-drive the Aurora" in page
    assert 'id="book-test-drive" href="/test-drive/?model=aurora"' in page
    assert 'id="inquiry-form"' in page
    assert _mark_of(client) == (broker.code, int(frozen.timestamp()))
    click = ReferralClick.objects.get()
    assert (click.broker, click.device, click.ip, click.landing) == (
        broker,
        FRIENDS_DEVICE,
        "127.0.0.1",
        f"/r/{broker.code}/?m=aurora",
    )


def test_a_link_typed_in_lower_case_works(frozen, model, broker):
    response = _friend_client().get(f"/r/{broker.code.lower()}/")

    assert response.status_code == 200
    assert 'data-model="aurora"' in response.content.decode()


@pytest.mark.parametrize("code", ["NOSUCH01", "%00", "a" * 60])
def test_an_unknown_link_is_a_kind_404_and_marks_nothing(frozen, broker, code):
    client = _friend_client()

    response = client.get(f"/r/{code}/")

    assert response.status_code in (400, 404)
    assert _mark_of(client) is None
    assert ReferralClick.objects.count() == 0


def test_a_suspended_brokers_link_marks_nothing(frozen, broker):
    Broker.objects.filter(pk=broker.pk).update(status=BrokerStatus.SUSPENDED)
    client = _friend_client()

    assert client.get(f"/r/{broker.code}/").status_code == 404
    assert _mark_of(client) is None


def test_a_second_brokers_link_does_not_replace_a_valid_mark(frozen, model, broker, other_broker):
    client = _friend_client()
    client.get(f"/r/{broker.code}/")
    clock.advance(timedelta(days=2))

    client.get(f"/r/{other_broker.code}/")

    assert _mark_of(client) == (broker.code, int(frozen.timestamp()))
    assert ReferralClick.objects.filter(broker=other_broker).count() == 1


def test_an_expired_mark_is_replaced_by_the_next_link(frozen, model, broker, other_broker):
    client = _friend_client()
    _set_mark(client, broker.code, frozen - timedelta(days=31))

    client.get(f"/r/{other_broker.code}/")

    assert _mark_of(client) == (other_broker.code, int(frozen.timestamp()))


def test_a_broker_opening_their_own_link_counts_nothing_but_remembers_the_device(frozen, model, broker):
    client = _friend_client()
    client.force_login(broker.user)

    page = client.get(f"/r/{broker.code}/").content.decode()

    assert 'id="own-link-notice"' in page
    assert _mark_of(client) is None
    assert ReferralClick.objects.count() == 0
    assert list(BrokerDevice.objects.values_list("device", flat=True)) == [FRIENDS_DEVICE]


def test_an_inquiry_sent_from_the_link_page_becomes_the_brokers_referral(frozen, dealer, model, broker):
    client = _friend_client()
    client.get(f"/r/{broker.code}/?m=aurora")
    clock.advance(timedelta(minutes=3))

    with committed():
        response = client.post(
            "/leads/inquiry/",
            {
                "model": "aurora",
                "channel": "web_price_inquiry",
                "name": "王芳",
                "phone": FRIEND_PHONE,
                "city": "shanghai",
                "share_with_dealer": "on",
            },
            HTTP_HX_REQUEST="true",
        )

    assert response.status_code == 200
    referral = Referral.objects.get()
    assert (referral.broker, referral.stage, referral.device, referral.ip, referral.clicked_at) == (
        broker,
        Stage.REFERRED,
        FRIENDS_DEVICE,
        "127.0.0.1",
        frozen,
    )


def test_the_broker_pages_ask_to_sign_in(db):
    for path in ("/broker/", "/broker/referrals/", "/broker/poster/", "/broker/poster.svg"):
        response = Client().get(path)
        assert response.status_code == 302 and "/account/sign-in/" in response["Location"], path
    assert Client().post("/broker/enrol/").status_code == 302
    assert Broker.objects.count() == 0


def test_someone_without_a_delivered_car_is_told_who_can_join(frozen, dealer, model):
    person = consumer(FRIEND_PHONE, "王芳")
    make_order(person, model, dealer)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person)

    page = client.get("/broker/").content.decode()
    client.post("/broker/enrol/")

    assert 'id="not-eligible"' in page and 'id="enrol-submit"' not in page
    assert Broker.objects.count() == 0


def test_an_owner_joins_and_gets_a_link_per_model(frozen, dealer, model, city):
    owner = consumer(FRIEND_PHONE, "王芳")
    mark_delivered(make_order(owner, model, dealer))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(owner)
    assert 'id="enrol-submit"' in client.get("/broker/").content.decode()

    response = client.post("/broker/enrol/", follow=True)

    broker = Broker.objects.get()
    page = response.content.decode()
    assert (broker.user, broker.kind, broker.city, broker.enrolled_by) == (owner, "owner", city, owner)
    assert f'id="broker-code" class="broker-code">{broker.code}<' in page
    assert f'value="http://testserver/r/{broker.code}/"' in page
    assert f'value="http://testserver/r/{broker.code}/?m=aurora"' in page
    assert 'data-copy-target="link-aurora"' in page
    assert 'id="total-available">¥0<' in page


def test_the_dashboard_shows_every_referral_with_its_stage_and_only_the_brokers_own(
    frozen, dealer, model, broker, other_broker, rules
):
    capture(broker_code=broker.code)
    capture(phone="13600136000", name="赵磊", broker_code=other_broker.code)
    mine = Referral.objects.get(broker=broker)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(broker.user)

    page = client.get("/broker/").content.decode()

    assert f'data-referral-id="{mine.public_id}" data-stage="referred"' in page
    assert "王*" in page and "王芳" not in page
    assert "赵" not in page
    assert Referral.objects.filter(broker=other_broker).get().public_id not in page


def test_the_referrals_page_filters_by_stage(frozen, dealer, model, broker, rules):
    capture(broker_code=broker.code)
    capture(phone="13800138000", broker_code=broker.code)  # the broker themself: rejected
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(broker.user)

    everything = client.get("/broker/referrals/").content.decode()
    rejected = client.get("/broker/referrals/?stage=rejected").content.decode()
    nonsense = client.get("/broker/referrals/?stage=bogus&page=99")

    assert everything.count("data-referral-id=") == 2
    assert rejected.count("data-referral-id=") == 1
    assert "Your own visit or booking does not count as a referral." in rejected
    assert nonsense.status_code == 200


def test_the_poster_has_the_qr_code_of_the_link_and_downloads_as_an_image(frozen, model, broker):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(broker.user)

    page = client.get("/broker/poster/?m=aurora").content.decode()
    image = client.get("/broker/poster.svg?m=aurora")

    assert 'id="poster-qr"' in page and "<svg" in page
    assert f"http://testserver/r/{broker.code}/?m=aurora" in page
    assert image.status_code == 200
    assert image["Content-Type"].startswith("image/svg+xml")
    assert image["Content-Disposition"] == f'attachment; filename="forecourt-{broker.code}-aurora.svg"'
    body = image.content.decode()
    assert body.count("<svg") == 2 and '<svg x="90" y="300" width="420" height="420"' in body
    assert "林浩 invites you to test-drive the Aurora" in body


def test_someone_who_is_not_a_broker_is_sent_to_the_join_page(frozen, model):
    person: User = consumer(FRIEND_PHONE, "王芳")
    client = Client()
    client.force_login(person)

    for path in ("/broker/referrals/", "/broker/poster/", "/broker/poster.svg"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, "/broker/"), path


def test_the_dashboard_speaks_chinese_by_default(frozen, model, broker):
    client = Client()
    client.force_login(broker.user)

    response = client.get("/broker/")

    assert response.status_code == 200
    assert 'lang="zh-Hans"' in response.content.decode()
