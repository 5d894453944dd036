import json

import pytest

from forecourt.core.models import Event

pytestmark = pytest.mark.django_db


def test_a_nul_in_an_api_path_is_a_422_in_the_error_shape(client):
    response = client.get("/api/v1/dealers/dl%00x", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid",
        "message": "The request contains a NUL character, which no field accepts.",
        "details": None,
    }


def test_a_nul_in_a_query_string_is_refused(client):
    response = client.get("/dealers/?city=sh%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.content.decode() == "The request contains a NUL character, which no field accepts."


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"phone": "1380013\u00008000"})),
        ("application/json; charset=utf-8", b'{"phone": "13800138000\x00"}'),
        ("application/x-www-form-urlencoded", "phone=1380013%008000".replace("%00", "\x00")),
    ],
)
def test_a_nul_in_a_body_is_refused_before_any_view_runs(client, content_type, body):
    events = Event.objects.count()
    response = client.post("/api/v1/auth/sms-code", body, content_type=content_type)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert response.json()["details"] == {"field": "phone"}
    assert Event.objects.count() == events


def test_a_nul_deep_in_a_json_body_is_named_by_its_path(client):
    body = {"lines": [{"code": "ok"}, {"code": "P\u0000"}]}
    response = client.post("/api/v1/leads", body, content_type="application/json")
    assert (response.status_code, response.json()["details"]) == (422, {"field": "lines.1.code"})


def test_an_unparsable_body_with_a_nul_is_refused_without_a_field(client):
    response = client.post("/api/v1/leads", b'{"phone": "\x00', content_type="application/json")
    assert (response.status_code, response.json()["details"]) == (422, None)


def test_the_chinese_message_is_the_default(client):
    response = client.get("/api/v1/dealers/dl%00x")
    assert response.json()["message"] == "请求中含有空字符（NUL），任何字段都不接受。"


def test_ordinary_requests_pass(client):
    assert client.get("/api/v1/dealers/nearest?lat=31.23&lng=121.47").status_code in (200, 422)
    assert client.get("/healthz").status_code == 200
