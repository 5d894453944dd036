from django.http import HttpResponse
from django.test import RequestFactory

from forecourt.core.middleware import DEVICE_COOKIE, RequestContextMiddleware, current_device


def _seen_device(request):
    seen = []

    def view(_request):
        seen.append(current_device())
        return HttpResponse("ok")

    response = RequestContextMiddleware(view)(request)
    return seen[0], response


def test_a_new_browser_gets_a_random_device_id_in_a_long_lived_http_only_cookie():
    device, response = _seen_device(RequestFactory().get("/"))
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie.value == device
    assert 16 <= len(device) <= 40
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 2 * 365 * 24 * 3600
    assert current_device() is None  # the id does not leak into later work


def test_a_known_browser_keeps_its_device_id_and_gets_no_new_cookie():
    request = RequestFactory().get("/")
    request.COOKIES[DEVICE_COOKIE] = "k3M9q2X4t8V1n6Pa"
    device, response = _seen_device(request)
    assert device == "k3M9q2X4t8V1n6Pa"
    assert DEVICE_COOKIE not in response.cookies


def test_a_malformed_device_cookie_is_replaced():
    request = RequestFactory().get("/")
    request.COOKIES[DEVICE_COOKIE] = "<script>"
    device, response = _seen_device(request)
    assert device != "<script>"
    assert response.cookies[DEVICE_COOKIE].value == device


def test_two_new_browsers_get_different_ids():
    first, _ = _seen_device(RequestFactory().get("/"))
    second, _ = _seen_device(RequestFactory().get("/"))
    assert first != second
