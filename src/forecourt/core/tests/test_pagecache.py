import pytest
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory

from forecourt.core import pagecache

TEMPLATE = engines["django"].from_string(
    '<form method="post">{% csrf_token %}</form><p data-csrf="{{ csrf_token }}">{{ count }}</p>'
)
calls: list[int] = []


@pagecache.anonymous_page_cache
def counting_page(request):
    calls.append(1)
    return HttpResponse(TEMPLATE.render({"count": len(calls)}, request))


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    settings.PAGE_CACHE_SECONDS = 60
    pagecache.page_cache_clear()
    calls.clear()
    yield
    pagecache.page_cache_clear()


def _get(rf, **cookies):
    request = rf.get("/cached/")
    request.COOKIES.update(cookies)
    return request


def test_anonymous_visitors_get_the_cached_page_with_their_own_csrf_token(rf: RequestFactory):
    first = counting_page(_get(rf)).content.decode()
    second = counting_page(_get(rf)).content.decode()

    assert len(calls) == 1
    assert pagecache.CSRF_PLACEHOLDER not in first + second
    assert "<p data-csrf=" in second and ">1</p>" in second
    first_token = first.split('data-csrf="')[1].split('"')[0]
    second_token = second.split('data-csrf="')[1].split('"')[0]
    assert len(first_token) == 64 and len(second_token) == 64
    assert first_token != second_token


def test_a_visitor_with_a_session_is_never_served_from_the_cache(rf: RequestFactory, settings):
    counting_page(_get(rf))
    signed_in = counting_page(_get(rf, **{settings.SESSION_COOKIE_NAME: "abc"})).content.decode()

    assert len(calls) == 2
    assert ">2</p>" in signed_in


def test_pending_messages_bypass_the_cache(rf: RequestFactory):
    counting_page(_get(rf))
    counting_page(_get(rf, messages="x"))

    assert len(calls) == 2


def test_the_cache_is_off_when_seconds_is_zero(rf: RequestFactory, settings):
    settings.PAGE_CACHE_SECONDS = 0
    counting_page(_get(rf))
    counting_page(_get(rf))

    assert len(calls) == 2


@pytest.mark.django_db
def test_a_form_from_a_cached_home_page_passes_the_csrf_check(settings):
    client = Client(enforce_csrf_checks=True)
    client.get("/")  # fills the cache
    page = client.get("/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
