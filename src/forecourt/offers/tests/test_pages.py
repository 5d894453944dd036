"""Consumer pages: every page answers in Chinese and English; the claim flow; the tabs; the voucher's QR
and its polled status after a write-off."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from forecourt.core import clock
from forecourt.dealers.tests.factories import DealerFactory, shanghai
from forecourt.offers.models import CouponKind, Redemption, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign, make_consumer

pytestmark = pytest.mark.django_db


def signed_in(user: Any, language: str = "zh-hans") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_consumer_page_answers_in_both_languages(language: str) -> None:
    person = make_consumer()
    campaign = make_campaign()
    make_campaign(kind=CouponKind.PAID_MULTIPLIER, name="双11 99抵2000", price_fen=99_00)
    voucher = campaign_claim(campaign=campaign, holder=person)
    client = signed_in(person, language)
    for path in (
        "/offers/",
        f"/offers/c/{campaign.public_id}/",
        "/offers/mine/",
        "/offers/mine/?tab=used",
        "/offers/mine/?tab=expired",
        f"/offers/mine/{voucher.code}/",
        f"/offers/mine/{voucher.code}/status/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Language"] == language, path


def test_the_campaign_list_shows_cards_by_kind() -> None:
    make_campaign(name="双11立减")
    make_campaign(kind=CouponKind.GIFT, name="到店礼", gift_description="洗车护理套装")
    page = Client().get("/offers/").content.decode()
    assert 'id="kind-cash_off"' in page and 'id="kind-gift"' in page
    assert "双11立减" in page and "洗车护理套装" in page


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back() -> None:
    campaign = make_campaign()
    page = Client().get(f"/offers/c/{campaign.public_id}/").content.decode()
    assert "/account/sign-in/?next=%2Foffers%2Fc%2F" in page
    response = Client().post(f"/offers/c/{campaign.public_id}/claim/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/account/sign-in/?next=")
    assert not Voucher.objects.exists()


def test_claiming_on_the_campaign_page_swaps_in_the_voucher_link() -> None:
    campaign = make_campaign()
    person = make_consumer()
    client = signed_in(person, "en")
    response = client.post(f"/offers/c/{campaign.public_id}/claim/", headers={"HX-Request": "true"})
    voucher = Voucher.objects.get(holder=person)
    assert response.status_code == 200
    assert f"/offers/mine/{voucher.code}/" in response.content.decode()


def test_a_refused_claim_is_explained_kindly() -> None:
    campaign = make_campaign(per_person_limit=1)
    person = make_consumer()
    campaign_claim(campaign=campaign, holder=person)
    client = signed_in(person, "en")
    response = client.post(f"/offers/c/{campaign.public_id}/claim/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="limit_reached"' in body and "You already have this coupon" in body
    assert Voucher.objects.filter(holder=person).count() == 1


def test_without_javascript_a_claim_goes_to_the_voucher_page() -> None:
    campaign = make_campaign()
    person = make_consumer()
    response = signed_in(person).post(f"/offers/c/{campaign.public_id}/claim/")
    voucher = Voucher.objects.get(holder=person)
    assert response.status_code == 302 and response["Location"] == f"/offers/mine/{voucher.code}/"


def test_the_tabs_hold_active_used_and_expired_coupons() -> None:
    person = make_consumer()
    active = campaign_claim(campaign=make_campaign(), holder=person)
    used = campaign_claim(campaign=make_campaign(), holder=person)
    Voucher.objects.filter(pk=used.pk).update(status=VoucherStatus.REDEEMED, redeemed_at=clock.now())
    pending = campaign_claim(
        campaign=make_campaign(kind=CouponKind.PAID_MULTIPLIER, price_fen=99_00), holder=person
    )
    refunded = campaign_claim(campaign=make_campaign(), holder=person)
    Voucher.objects.filter(pk=refunded.pk).update(status=VoucherStatus.REFUNDED, voided_at=clock.now())
    client = signed_in(person)

    def codes(tab: str) -> set[str]:
        page = client.get(f"/offers/mine/?tab={tab}").content.decode()
        return {code for code in (active.code, used.code, pending.code, refunded.code) if code in page}

    assert codes("active") == {active.code, pending.code}
    assert codes("used") == {used.code}
    assert codes("expired") == {refunded.code}


def test_the_voucher_page_shows_a_big_qr_and_the_code_in_groups_and_polls() -> None:
    person = make_consumer()
    voucher = campaign_claim(campaign=make_campaign(conditions="仅限购车时使用"), holder=person)
    page = signed_in(person).get(f"/offers/mine/{voucher.code}/").content.decode()
    assert "<svg" in page and 'id="voucher-qr"' in page
    assert "".join(f"<span>{voucher.code[i : i + 4]}</span>" for i in range(0, 16, 4)) in page
    assert "仅限购车时使用" in page
    assert 'hx-trigger="every 4s"' in page


def test_after_the_write_off_the_holder_sees_when_and_where() -> None:
    person = make_consumer()
    voucher = campaign_claim(campaign=make_campaign(kind=CouponKind.GIFT), holder=person)
    dealer = DealerFactory.create(city=shanghai(), name="上海浦东体验中心")
    at = clock.now()
    Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.REDEEMED, redeemed_at=at)
    Redemption.objects.create(voucher=voucher, redeemed_at=at, dealer=dealer, place="上海浦东体验中心")
    client = signed_in(person, "en")
    status = client.get(f"/offers/mine/{voucher.code}/status/?was=active")
    assert status.headers["HX-Refresh"] == "true"
    assert "Used at" in status.content.decode() and "上海浦东体验中心" in status.content.decode()
    page = client.get(f"/offers/mine/{voucher.code}/").content.decode()
    assert 'id="voucher-qr"' not in page and "hx-trigger" not in page


def test_someone_elses_voucher_page_is_404() -> None:
    voucher = campaign_claim(campaign=make_campaign(), holder=make_consumer())
    client = signed_in(make_consumer())
    assert client.get(f"/offers/mine/{voucher.code}/").status_code == 404
    assert client.get(f"/offers/mine/{voucher.code}/status/").status_code == 404


def test_my_coupons_need_signing_in() -> None:
    response = Client().get("/offers/mine/")
    assert response.status_code == 302 and "/account/sign-in/" in response["Location"]


def test_the_home_page_teaser_lists_running_campaigns() -> None:
    from django.template.loader import render_to_string

    make_campaign(name="双11立减")
    html = render_to_string("offers/_campaign_teaser.html")
    assert "双11立减" in html and 'id="campaign-teaser"' in html
