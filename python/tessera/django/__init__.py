"""Django integration of tessera: settings in one `TESSERA` dict (`tessera.django.conf`), a
helper that mints a button's token for the current user (`mint_for`), and a view decorator
that binds a view to one action and checks its requests as spec §8 says (`action`).

    # settings.py
    INSTALLED_APPS += ["tessera.django"]
    TESSERA = {"ISSUER": "inventree", "REPLAY_CACHE": "default"}   # keys from SECRET_KEY

    # views.py
    from tessera.django import action, mint_for

    @action("plugin:stock-tools/action:transfer", single_use=True)
    def transfer(request, act):
        return JsonResponse({"moved": act.payload["qty"], "note": act.input})

Refusals are `application/problem+json` with the codes and statuses of the Rust server.
CSRF protection is untouched: pages post with Django's CSRF token as usual.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Optional, Protocol, cast

from django.http import HttpRequest, HttpResponse

from .._errors import TesseraError
from .actions import (
    TOKEN_FIELD,
    TOKEN_HEADER,
    Action,
    ActionRoute,
    button_for,
    mint_for,
    principal_of,
    receive,
    release,
)
from .problems import Refusal, problem

__all__ = [
    "TOKEN_FIELD",
    "TOKEN_HEADER",
    "Action",
    "ActionRoute",
    "ActionView",
    "Refusal",
    "action",
    "button_for",
    "handle",
    "mint_for",
    "principal_of",
    "problem",
    "receive",
]

View = Callable[..., HttpResponse]

#: The single-use routes declared with `action` so far (`manage.py check` looks at them once
#: the URLconf has imported their views: tessera.E002 without a replay cache).
SINGLE_USE: list[ActionRoute] = []


class ActionView(Protocol):
    """A view bound to an action by `action`: callable as the view, with its route."""

    tessera_route: ActionRoute

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse: ...


def handle(
    request: HttpRequest, route: ActionRoute, view: View, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Runs `view(request, action, *args, **kwargs)` on a verified action request, or answers
    the refusal. A refusal the view raises (`Refusal`/`TesseraError`, e.g. from
    `Action.require_fingerprint`) is answered the same way; when the view refuses a
    single-use action (any 4xx), its use is released."""
    try:
        act = receive(request, route)
    except TesseraError as e:
        return problem(e, route.id)
    try:
        response = view(request, act, *args, **kwargs)
    except TesseraError as e:
        if 400 <= e.status < 500:
            release(act)
        return problem(e, route.id)
    if 400 <= response.status_code < 500:
        release(act)
    return response


def action(
    action_id: str,
    *,
    accept: str = "signed",
    single_use: bool = False,
    payload: Optional[Callable[[Any], Any]] = None,
    input: Optional[Callable[[Any], Any]] = None,
) -> Callable[[View], ActionView]:
    """Binds a view to the action `action_id`: the view runs only for a POST carrying a
    token for that action and the current user, as `view(request, action, ...)` with the
    verified `Action`. `accept` is the route kind (`signed`, `sealed`, `either`);
    `single_use` records each token's use in `TESSERA['REPLAY_CACHE']`; `payload` and
    `input` type the token's `dat` and the user's input (`bad_payload`, `bad_input`)."""
    route = ActionRoute(action_id, accept, single_use, payload, input)
    if single_use:
        SINGLE_USE.append(route)

    def decorate(view: View) -> ActionView:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return handle(request, route, view, *args, **kwargs)

        bound = cast(ActionView, wrapper)
        bound.tessera_route = route
        return bound

    return decorate
