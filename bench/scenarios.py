"""The scenario registry. A scenario turns the running, seeded app into one request to load-test.

Add one by decorating a function that takes the `Server` and returns a `Plan` (or raises `Skip`):

    @scenario("dealer-nearest", title="Nearest dealers API", target_ratio=0.5)
    def dealer_nearest(server):
        return Plan("GET", "/api/v1/dealers/nearest?lat=31.23&lng=121.47&limit=10")

Every scenario's requests/s is divided by the baseline's (the minimal endpoint, measured in the same
run against the same server) and compared with its target ratio.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server import Server


class Skip(Exception):
    """The scenario cannot run against this app (yet); the message says why."""


@dataclass(frozen=True)
class Plan:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    lua_script: str | None = None
    expect_status: int = 200
    # Checks one response before the load starts, so a fast error page is never measured as success.
    check: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    plan: Callable[[Server], Plan]
    baseline: bool = False
    target_ratio: float | None = None
    default: bool = True


REGISTRY: dict[str, Scenario] = {}


def scenario(
    name: str, *, title: str, baseline: bool = False, target_ratio: float | None = None, default: bool = True
) -> Callable[[Callable[[Server], Plan]], Callable[[Server], Plan]]:
    def register(plan: Callable[[Server], Plan]) -> Callable[[Server], Plan]:
        if name in REGISTRY:
            raise ValueError(f"scenario {name!r} is registered twice")
        REGISTRY[name] = Scenario(name, title, plan, baseline, target_ratio, default)
        return plan

    return register


def baseline() -> Scenario:
    return next(item for item in REGISTRY.values() if item.baseline)


# ---- Discovering realistic inputs from the seeded catalogue through the public API ----------------------


def _items(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return [item for item in payload if isinstance(item, dict)]
    if isinstance(payload, dict):
        for key in ("items", "models", "results", "data"):
            if isinstance(payload.get(key), list):
                return _items(payload[key])
    return []


def _codes(entries: Any) -> list[str]:
    return [str(entry["code"]) for entry in _items(entries) if entry.get("code")]


def model_codes(server: Server) -> list[str]:
    answer = server.request("GET", "/api/v1/catalog/models")
    if answer.status != 200:
        raise Skip(f"GET /api/v1/catalog/models answered {answer.status}")
    codes = _codes(answer.json())
    if not codes:
        raise Skip("the catalogue API lists no models (was the demo data seeded?)")
    return codes


def _quote(server: Server, trim: str, options: list[str]) -> dict[str, Any] | None:
    body = json.dumps({"trim": trim, "options": options}).encode()
    answer = server.request(
        "POST", "/api/v1/configurations/quote", body=body, headers={"Content-Type": "application/json"}
    )
    return answer.json() if answer.status == 200 else None


def _optional_codes(detail: dict[str, Any], trim: dict[str, Any]) -> list[str]:
    """Codes a buyer may add to this trim: its options marked optional, else every listed option."""
    codes: list[str] = []
    for source in (trim, detail):
        for key in ("options", "packages", "option_packages"):
            for entry in _items(source.get(key)):
                if entry.get("code") and entry.get("availability", "optional") == "optional":
                    codes.append(str(entry["code"]))
    return list(dict.fromkeys(codes))


def _complete(server: Server, trim_code: str) -> tuple[list[str], dict[str, Any] | None]:
    """Answer each "choose one" the configurator asks for (paint, interior, wheels…) with its first choice."""
    chosen: list[str] = []
    quote = _quote(server, trim_code, chosen)
    for _ in range(5):
        if quote is None or quote.get("valid"):
            break
        answers = [
            str(error["options"][0])
            for error in quote.get("errors", [])
            if error.get("code") == "choose_one" and error.get("options")
        ]
        answers = [code for code in answers if code not in chosen]
        if not answers:
            break
        chosen += answers
        quote = _quote(server, trim_code, chosen)
    return chosen, quote


def realistic_quote_body(server: Server, *, extra_options: int = 3) -> bytes:
    """A valid quote request: a mid-range trim with its required choices and a few priced options."""
    for code in model_codes(server):
        answer = server.request("GET", f"/api/v1/catalog/models/{code}")
        if answer.status != 200:
            continue
        detail = answer.json()
        trims = _items(detail.get("trims")) if isinstance(detail, dict) else []
        if not trims:
            continue
        trim = trims[len(trims) // 2]
        trim_code = str(trim.get("code", ""))
        chosen, base = _complete(server, trim_code)
        if base is None or not base.get("valid"):
            continue
        added = 0
        for option in _optional_codes(detail, trim):
            if added >= extra_options:
                break
            if option in chosen:
                continue
            quote = _quote(server, trim_code, [*chosen, option])
            # Keep only options that change the price and keep the configuration valid: a real order.
            if quote and quote.get("valid") and quote.get("total") != base.get("total"):
                chosen.append(option)
                base = quote
                added += 1
        return json.dumps({"trim": trim_code, "options": chosen}).encode()
    raise Skip("no model has a trim that quotes as valid")


def _expect_valid_quote(payload: Any) -> str | None:
    if not isinstance(payload, dict) or payload.get("valid") is not True:
        return f"the quote is not valid: {json.dumps(payload, ensure_ascii=False)[:300]}"
    return None


# ---- The scenarios of issue 2 ----------------------------------------------------------------------------


@scenario("healthz", title="Minimal endpoint (no DB, no template)", baseline=True)
def healthz(server: Server) -> Plan:
    return Plan("GET", "/healthz")


@scenario("quote", title="Quote API (configurator rules and prices)", target_ratio=0.5)
def quote(server: Server) -> Plan:
    return Plan(
        "POST",
        "/api/v1/configurations/quote",
        body=realistic_quote_body(server),
        headers={"Content-Type": "application/json"},
        lua_script="quote.lua",
        check=_expect_valid_quote,
    )


@scenario("model-page", title="Model page (HTML)", target_ratio=0.5)
def model_page(server: Server) -> Plan:
    return Plan("GET", f"/models/{model_codes(server)[0]}/")


@scenario("home", title="Home page (HTML)", target_ratio=0.5, default=False)
def home(server: Server) -> Plan:
    return Plan("GET", "/")
