"""The published API contracts of the catalogue and the configurator, asserted exactly."""

import json

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.services import price_list_publish
from forecourt.catalog.tests.factories import draft_with_changes
from forecourt.core.models import Event

pytestmark = pytest.mark.django_db

CNY = "CNY"


def money(fen):
    return {"amount": fen, "currency": CNY}


def post(client, path, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)


def test_models_list(client, catalogue):
    response = client.get("/api/v1/catalog/models", HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "aurora",
            "name": "极光",
            "names": {"zh-hans": "极光", "en": "Aurora"},
            "body_type": "sedan",
            "powertrain": "bev",
            "tagline": "安静的力量",
            "is_limited_edition": False,
            "limited_units": None,
            "from_price": money(22_990_000),
            "url": "/models/aurora/",
        }
    ]


def test_models_list_in_english(client, catalogue):
    response = client.get("/api/v1/catalog/models", HTTP_ACCEPT_LANGUAGE="en")

    assert [(model["name"], model["tagline"]) for model in response.json()] == [("Aurora", "Quiet power")]


def test_model_detail_has_trims_options_rules_prices_and_specs(client, catalogue):
    response = client.get("/api/v1/catalog/models/aurora", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("code", "name", "from_price", "price_list_version")} == {
        "code": "aurora",
        "name": "极光",
        "from_price": money(22_990_000),
        "price_list_version": 1,
    }
    std = body["trims"][0]
    assert {key: value for key, value in std.items() if key != "options"} == {
        "code": "aurora-std",
        "model": "aurora",
        "name": "标准版",
        "names": {"zh-hans": "标准版", "en": "Standard"},
        "price": money(22_990_000),
        "is_limited_edition": False,
        "limited_units": None,
        "defaults": ["white", "black-int", "wheels-18"],
        "specs": {
            "range_km": 650,
            "fuel_l_per_100km_tenths": None,
            "power_kw": 200,
            "torque_nm": 400,
            "seats": 5,
            "length_mm": 4890,
            "width_mm": 1880,
            "height_mm": 1460,
            "wheelbase_mm": 2950,
            "acceleration_0_100_tenths": 62,
            "drive": "rwd",
        },
    }
    assert std["options"][:3] == [
        {"code": "white", "availability": "standard", "price": money(0)},
        {"code": "red", "availability": "optional", "price": money(800_000)},
        {"code": "black-int", "availability": "standard", "price": money(0)},
    ]
    assert [trim["code"] for trim in body["trims"]] == ["aurora-std", "aurora-pro"]
    assert [option["code"] for option in body["trims"][1]["options"]][-3:] == [
        "air-sport",
        "comfort",
        "pilot",
    ]
    options = {option["code"]: option for option in body["options"]}
    assert options["red"] == {
        "code": "red",
        "kind": "paint",
        "name": "丹霞红",
        "names": {"zh-hans": "丹霞红", "en": "Danxia Red"},
        "description": "",
        "swatch": "#A4232C",
        "includes": [],
    }
    assert options["pilot"]["includes"] == ["hud"]
    assert body["rules"] == [
        {"kind": "requires", "option": "audio", "other": "comfort"},
        {"kind": "excludes", "option": "tow-bar", "other": "air-sport"},
    ]


def test_unknown_model_is_404(client, catalogue):
    response = client.get("/api/v1/catalog/models/nope")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert set(response.json()) == {"code", "message", "details"}


def test_quote_contract(client, catalogue):
    response = post(
        client,
        "/api/v1/configurations/quote",
        {"trim": "aurora-std", "options": ["red", "black-int", "wheels-20", "pilot"]},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "errors": [],
        "lines": [
            {"code": "aurora-std", "name": "极光 标准版", "price": money(22_990_000)},
            {"code": "red", "name": "丹霞红", "price": money(800_000)},
            {"code": "black-int", "name": "黑色内饰", "price": money(0)},
            {"code": "wheels-20", "name": "20 英寸轮毂", "price": money(600_000)},
            {"code": "pilot", "name": "智驾包", "price": money(2_500_000)},
            {"code": "hud", "name": "抬头显示", "price": money(0)},
        ],
        "total": money(22_990_000 + 800_000 + 600_000 + 2_500_000),
        "price_list_version": 1,
    }


def test_quote_explains_every_broken_rule_in_the_request_language(client, catalogue, base_choices):
    body = {"trim": "aurora-pro", "options": [*base_choices, "tow-bar", "air-sport", "audio"]}

    chinese = post(client, "/api/v1/configurations/quote", body, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    english = post(client, "/api/v1/configurations/quote", body, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").json()

    assert chinese["valid"] is False
    assert chinese["errors"] == [
        {"code": "requires", "message": "高级音响需要同时选装舒适包。", "options": ["audio", "comfort"]},
        {
            "code": "excludes",
            "message": "拖车钩不能与空气悬架运动调校同时选装。",
            "options": ["tow-bar", "air-sport"],
        },
    ]
    assert english["errors"] == [
        {
            "code": "requires",
            "message": "Premium audio requires Comfort package.",
            "options": ["audio", "comfort"],
        },
        {
            "code": "excludes",
            "message": "Tow bar cannot be combined with Air suspension sport tune.",
            "options": ["tow-bar", "air-sport"],
        },
    ]
    assert english["lines"][0]["name"] == "Aurora Performance"
    assert chinese["total"] == english["total"]


def test_quote_for_an_unknown_trim_is_404(client, catalogue):
    response = post(client, "/api/v1/configurations/quote", {"trim": "nope", "options": []})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"options": ["red"]}, "trim"),
        ({"trim": 42, "options": []}, "trim"),
        ({"trim": "aurora-std", "options": "red"}, "options"),
        ({"trim": "aurora-std", "options": [1]}, "options.0"),
        ({"trim": "", "options": []}, "trim"),
        ({"trim": "aurora-std", "options": ["x" * 41]}, "options.0"),
        ({"trim": "aurora-std", "options": ["red"] * 61}, "options"),
        ([], None),
        ("{not json", None),
        ("", None),
    ],
)
def test_malformed_quote_bodies_are_422_naming_the_field(client, catalogue, body, field):
    response = post(client, "/api/v1/configurations/quote", body)

    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "invalid"
    assert [detail["field"] for detail in payload["details"]] == [field]


def test_save_returns_201_with_share_code_and_the_quote(client, catalogue):
    response = post(
        client, "/api/v1/configurations", {"trim": "aurora-std", "options": ["red", "black-int", "wheels-18"]}
    )

    assert response.status_code == 201
    body = response.json()
    saved = SavedConfiguration.objects.get()
    assert body == {
        "share_code": saved.share_code,
        "share_url": f"/c/{saved.share_code}/",
        "trim": "aurora-std",
        "options": ["black-int", "red", "wheels-18"],
        "created_at": saved.created_at.isoformat(),
        "valid": True,
        "errors": [],
        "lines": [
            {"code": "aurora-std", "name": "极光 标准版", "price": money(22_990_000)},
            {"code": "red", "name": "丹霞红", "price": money(800_000)},
            {"code": "black-int", "name": "黑色内饰", "price": money(0)},
            {"code": "wheels-18", "name": "18 英寸轮毂", "price": money(0)},
        ],
        "total": money(23_790_000),
        "price_list_version": 1,
    }
    assert len(saved.share_code) == 12
    assert saved.owner is None


def test_save_by_a_signed_in_person_records_the_owner(client, catalogue, base_choices):
    person = get_user_model().objects.create_user(username="wang", password="x" * 12)
    client.force_login(person)

    response = post(client, "/api/v1/configurations", {"trim": "aurora-std", "options": base_choices})

    assert response.status_code == 201
    assert SavedConfiguration.objects.get().owner == person
    assert Event.objects.get(name="catalog.configuration_saved").actor == person


def test_saving_an_invalid_configuration_is_422_with_the_breaks_and_saves_nothing(client, catalogue):
    response = post(
        client,
        "/api/v1/configurations",
        {"trim": "aurora-std", "options": ["white", "black-int", "audio"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_configuration",
        "message": "This configuration cannot be saved: 2 rules are broken.",
        "details": [
            {
                "code": "choose_one",
                "message": "Choose a set of wheels.",
                "options": ["wheels-18", "wheels-20"],
            },
            {
                "code": "requires",
                "message": "Premium audio requires Comfort package.",
                "options": ["audio", "comfort"],
            },
        ],
    }
    assert not SavedConfiguration.objects.exists()
    assert not Event.objects.filter(name="catalog.configuration_saved").exists()


def test_save_unknown_trim_is_404_and_malformed_is_422(client, catalogue):
    assert post(client, "/api/v1/configurations", {"trim": "nope", "options": []}).status_code == 404
    assert post(client, "/api/v1/configurations", {"options": []}).status_code == 422
    assert not SavedConfiguration.objects.exists()


def test_get_saved_configuration_without_price_changes(client, catalogue, base_choices):
    share_code = post(
        client, "/api/v1/configurations", {"trim": "aurora-std", "options": base_choices}
    ).json()["share_code"]

    response = client.get(f"/api/v1/configurations/{share_code}")

    assert response.status_code == 200
    body = response.json()
    assert body["share_code"] == share_code
    assert body["total"] == money(22_990_000)
    assert body["price_list_version"] == 1
    assert (body["current"], body["no_longer_offered"]) == (None, False)


def test_get_saved_configuration_after_a_price_change_shows_both(client, catalogue):
    options = ["red", "black-int", "wheels-18"]
    share_code = post(client, "/api/v1/configurations", {"trim": "aurora-std", "options": options}).json()[
        "share_code"
    ]
    price_list_publish(
        price_list=draft_with_changes(catalogue, version=2, changes={"aurora-std": 232_900, "red": 10_000}),
        actor=None,
    )

    body = client.get(f"/api/v1/configurations/{share_code.lower()}").json()

    assert (body["total"], body["price_list_version"]) == (money(23_790_000), 1)
    assert [line["price"]["amount"] for line in body["lines"]] == [22_990_000, 800_000, 0, 0]
    assert body["current"] == {
        "valid": True,
        "errors": [],
        "lines": [
            {"code": "aurora-std", "name": "极光 标准版", "price": money(23_290_000)},
            {"code": "red", "name": "丹霞红", "price": money(1_000_000)},
            {"code": "black-int", "name": "黑色内饰", "price": money(0)},
            {"code": "wheels-18", "name": "18 英寸轮毂", "price": money(0)},
        ],
        "total": money(24_290_000),
        "price_list_version": 2,
    }


def test_unknown_share_code_is_404(client, catalogue):
    response = client.get("/api/v1/configurations/ZZZZZZZZZZZZ")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_compare_two_trims(client, catalogue):
    response = client.get("/api/v1/catalog/compare?trims=aurora-pro,aurora-std", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.json()
    assert body["price_list_version"] == 1
    assert [(trim["code"], trim["name"], trim["model_name"], trim["price"]) for trim in body["trims"]] == [
        ("aurora-pro", "Performance", "Aurora", money(26_990_000)),
        ("aurora-std", "Standard", "Aurora", money(22_990_000)),
    ]
    assert body["trims"][0]["specs"]["power_kw"] == 390


@pytest.mark.parametrize("trims", ["", "aurora-std", "aurora-std,aurora-std", "a,b,c,d"])
def test_compare_needs_two_or_three_different_trims(client, catalogue, trims):
    response = client.get(f"/api/v1/catalog/compare?trims={trims}")

    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["details"]] == ["trims"]


def test_compare_unknown_trim_is_404(client, catalogue):
    response = client.get("/api/v1/catalog/compare?trims=aurora-std,nope")

    assert response.status_code == 404
    assert response.json()["details"] == {"trims": ["nope"]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"trim": st.sampled_from(["aurora-std", "aurora-pro", "nope"]) | st.text(max_size=45)},
        optional={
            "options": st.lists(st.sampled_from(["red", "hud", "pilot", "ghost"]) | st.text(max_size=45))
        },
    ).map(json.dumps),
    st.binary(max_size=60),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_no_body_makes_the_configurator_fail(client, catalogue, body):
    for path, allowed in (
        ("/api/v1/configurations/quote", {200, 404, 422}),
        ("/api/v1/configurations", {201, 404, 422}),
    ):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code in allowed, (path, body, response.content)
        assert set(response.json()) >= (
            {"code", "message", "details"} if response.status_code >= 400 else set()
        )


def test_the_openapi_document_describes_the_configurator(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert "requestBody" in paths["/api/v1/configurations/quote"]["post"]
    assert {
        "/api/v1/catalog/models",
        "/api/v1/catalog/models/{code}",
        "/api/v1/configurations/{share_code}",
    } <= set(paths)
