"""Consumer pages: model page, configurator with its htmx partial, saving, the saved quote, comparison."""

import re

import pytest

from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.selectors import models_for_home
from forecourt.catalog.services import configuration_save, price_list_publish
from forecourt.catalog.tests.factories import draft_with_changes
from forecourt.core.money import Money

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_models_for_home_lists_active_models_with_their_from_price(catalogue):
    cards = models_for_home()

    assert [(card.code, card.name, card.from_price, card.trim_count) for card in cards] == [
        ("aurora", "极光", Money(22_990_000), 2)
    ]


def test_model_page_shows_trims_with_prices_specs_and_configure_links(client, catalogue):
    response = client.get("/models/aurora/")

    assert response.status_code == 200
    page = text(response)
    assert "极光" in page
    assert "¥229,900" in page and "¥269,900" in page
    assert 'href="/configure/aurora-std/"' in page and 'href="/configure/aurora-pro/"' in page
    assert "650 公里" in page


def test_model_page_in_english(client, catalogue):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    page = text(client.get("/models/aurora/"))

    assert "Aurora" in page and "Quiet power" in page and "650 km" in page


def test_unknown_model_page_is_404(client, catalogue):
    assert client.get("/models/nope/").status_code == 404


def test_configurator_starts_from_the_no_cost_choices(client, catalogue):
    response = client.get("/configure/aurora-std/")

    assert response.status_code == 200
    page = text(response)
    assert re.search(r'<strong class="price" id="total" data-valid="true">¥229,900</strong>', page)
    for code in ("white", "black-int", "wheels-18"):
        assert re.search(rf'id="option-{code}" name="options" value="{code}" type="radio" checked', page)
    assert re.search(r'id="option-red" name="options" value="red" type="radio" >', page)
    assert re.search(r'id="option-hud" name="options" value="hud" type="checkbox" >', page)
    assert 'id="save-configuration"' in page
    assert 'hx-post="/configure/aurora-std/summary/"' in page


def test_configurator_can_start_from_given_choices(client, catalogue):
    page = text(
        client.get("/configure/aurora-std/?options=red&options=black-int&options=wheels-18&options=hud")
    )

    assert re.search(r'id="option-red" name="options" value="red" type="radio" checked', page)
    assert 'id="total" data-valid="true">¥241,900<' in page


def test_summary_partial_reprices_and_explains_broken_rules_next_to_the_choice(client, catalogue):
    response = client.post(
        "/configure/aurora-pro/summary/",
        {"options": ["red", "black-int", "wheels-18", "tow-bar", "air-sport"]},
        **HTMX,
    )

    assert response.status_code == 200
    page = text(response)
    assert '<strong class="price" id="total" hx-swap-oob="true" data-valid="false">¥290,900</strong>' in page
    assert "拖车钩不能与空气悬架运动调校同时选装。" in page
    assert re.search(
        r'id="note-tow-bar" hx-swap-oob="true" role="alert"><span class="rule-break" data-code="excludes">',
        page,
    )
    assert re.search(r'id="note-air-sport" hx-swap-oob="true" role="alert"><span class="rule-break"', page)
    assert re.search(r'id="note-hud" hx-swap-oob="true"></small>', page)
    assert "<html" not in page


def test_summary_partial_says_choose_one_once_for_the_group(client, catalogue):
    page = text(
        client.post(
            "/configure/aurora-std/summary/", {"options": ["white", "red", "black-int", "wheels-18"]}, **HTMX
        )
    )

    assert re.search(
        r'id="note-group-paint" hx-swap-oob="true" role="alert">'
        r'<span class="rule-break" data-code="choose_one">只能选择一种车漆',
        page,
    )
    assert re.search(r'id="note-red" hx-swap-oob="true"></small>', page)


def test_included_options_are_marked_next_to_their_choice(client, catalogue, base_choices):
    page = text(client.post("/configure/aurora-std/summary/", {"options": [*base_choices, "pilot"]}, **HTMX))

    assert re.search(r'id="note-hud" hx-swap-oob="true">已包含在智驾包中</small>', page)


def test_saving_from_the_configurator_redirects_htmx_to_the_saved_page(client, catalogue):
    response = client.post(
        "/configure/aurora-std/save/", {"options": ["red", "black-int", "wheels-18"]}, **HTMX
    )

    saved = SavedConfiguration.objects.get()
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/c/{saved.share_code}/"
    assert saved.total_fen == 23_790_000


def test_saving_without_htmx_redirects(client, catalogue, base_choices):
    response = client.post("/configure/aurora-std/save/", {"options": base_choices})

    assert response.status_code == 302
    assert response["Location"] == f"/c/{SavedConfiguration.objects.get().share_code}/"


def test_saving_an_invalid_configuration_explains_and_saves_nothing(client, catalogue):
    response = client.post(
        "/configure/aurora-std/save/", {"options": ["white", "black-int", "audio"]}, **HTMX
    )

    assert response.status_code == 200
    page = text(response)
    assert 'id="save-error"' in page
    assert "高级音响需要同时选装舒适包。" in page
    assert not SavedConfiguration.objects.exists()


def test_configurator_for_unknown_trim_is_404(client, catalogue):
    assert client.get("/configure/nope/").status_code == 404
    assert client.post("/configure/nope/summary/", {"options": []}, **HTMX).status_code == 404
    assert client.post("/configure/nope/save/", {"options": []}, **HTMX).status_code == 404


def test_saved_page_shows_the_quote_share_link_and_version(client, catalogue):
    saved = configuration_save(trim_code="aurora-std", option_codes=["red", "black-int", "wheels-18"])

    page = text(client.get(f"/c/{saved.share_code}/"))

    assert '<p class="price price--large" id="total">¥237,900</p>' in page
    assert f'id="share-link" type="url" readonly value="http://testserver/c/{saved.share_code}/"' in page
    assert "价格表 v1" in page
    assert 'id="current-quote"' not in page


def test_saved_page_shows_today_s_price_beside_the_saved_one_after_a_change(client, catalogue):
    saved = configuration_save(trim_code="aurora-std", option_codes=["red", "black-int", "wheels-18"])
    price_list_publish(
        price_list=draft_with_changes(catalogue, version=2, changes={"red": 10_000}), actor=None
    )

    page = text(client.get(f"/c/{saved.share_code}/"))

    assert '<p class="price price--large" id="total">¥237,900</p>' in page
    assert '<p class="price price--large" id="current-total">¥239,900</p>' in page
    assert 'id="prices-changed"' in page


def test_unknown_share_code_page_is_404(client, catalogue):
    assert client.get("/c/ZZZZZZZZZZZZ/").status_code == 404


def test_compare_page_shows_specs_and_prices_side_by_side(client, catalogue):
    page = text(client.get("/compare/?trims=aurora-std,aurora-pro"))

    assert 'data-trim="aurora-std"' in page and 'data-trim="aurora-pro"' in page
    assert re.search(
        r'<tr data-spec="price"><th scope="row">价格</th><td>¥229,900</td><td>¥269,900</td></tr>', page
    )
    assert re.search(
        r'<tr data-spec="power_kw"><th scope="row">功率</th><td>200 千瓦</td><td>390 千瓦</td></tr>', page
    )


def test_compare_page_accepts_picker_values_and_explains_too_few(client, catalogue):
    pickers = text(client.get("/compare/?trims=aurora-std&trims=aurora-pro&trims="))
    lonely = text(client.get("/compare/?trims=aurora-std"))
    empty = client.get("/compare/")

    assert 'data-trim="aurora-pro"' in pickers
    assert "请选择两到三个不同的版本进行对比。" in lonely
    assert empty.status_code == 200
    assert client.get("/compare/?trims=aurora-std,nope").status_code == 404


def test_configurator_refuses_absurd_posts_instead_of_trimming_them(client, catalogue):
    too_many = client.post("/configure/aurora-std/summary/", {"options": ["red"] * 61}, **HTMX)
    too_long = client.post("/configure/aurora-std/summary/", {"options": ["x" * 41]}, **HTMX)

    assert (too_many.status_code, too_long.status_code) == (400, 400)
