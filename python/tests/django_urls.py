"""The Django test app: action views bound with `tessera.django.action`, and a page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import path

from tessera.django import Action, action, mint_for

TRANSFER = "plugin:stock-tools/action:transfer"
CONFIRM = "plugin:stock-tools/action:confirm-transfer"
RETURN_ALL = "plugin:stock-tools/action:return-all"
REVEAL = "plugin:hr/action:reveal"
#: The state the return-all button acts on; tests change it.
LEDGER = {"version": "ledger:v1"}


def transfer_payload(dat: Any) -> dict[str, int]:
    return {"part_id": int(dat["part_id"]), "qty": int(dat["qty"])}


def qty_input(raw: Any) -> int:
    if raw is None:
        return 1
    qty = int(raw["qty"])
    if not 1 <= qty <= 100:
        raise ValueError("qty out of range")
    return qty


@action(TRANSFER, payload=transfer_payload, input=qty_input)
def transfer(request: HttpRequest, act: Action) -> HttpResponse:
    return JsonResponse({"part": act.payload["part_id"], "moved": act.input, "by": act.principal})


@action(CONFIRM, single_use=True)
def confirm(request: HttpRequest, act: Action) -> HttpResponse:
    return JsonResponse({"confirmed": act.payload})


@action(RETURN_ALL, single_use=True)
def return_all(request: HttpRequest, act: Action) -> HttpResponse:
    act.require_fingerprint(LEDGER["version"])
    return JsonResponse({"returned": act.payload})


@action(REVEAL, accept="sealed")
def reveal(request: HttpRequest, act: Action) -> HttpResponse:
    return JsonResponse({"salary": act.payload["salary"]})


PAGE = engines["django"].from_string(
    """<form method="post" action="/transfer">{% csrf_token %}
<input type="hidden" name="tessera_token" value="{{ token }}">
<input name="qty" value="1"><button>Move {{ qty }}</button></form>"""
)


def page(request: HttpRequest) -> HttpResponse:
    get_token(request)
    token = mint_for(request, TRANSFER, {"part_id": 1234, "qty": 25})
    return HttpResponse(PAGE.render({"token": token, "qty": 25}, request))


urlpatterns = [
    path("transfer", transfer),
    path("confirm", confirm),
    path("return-all", return_all),
    path("reveal", reveal),
    path("page", page),
]
