"""tessera for InvenTree plugins: a panel's button carries its data in a signed token, so the
click works on whichever gunicorn worker (or thread) serves it — the fix for the pattern of
InvenTree issue #9363 (data kept on `self` between `get_ui_panels` and the click).

    from plugin import InvenTreePlugin
    from tessera.inventree import TesseraMixin, tessera_action

    class StockTools(TesseraMixin, InvenTreePlugin):
        NAME = SLUG = "stock-tools"

        def get_ui_panels(self, request, context, **kwargs):
            button = self.tessera_button(request, "move", {"item": 7, "to": 3})
            return [{"key": "move", "title": "Move", "context": button,
                     "source": self.plugin_static_file("panel.js:renderPanel")}]

        @tessera_action("move")
        def move(self, request, action):          # action.payload == {"item": 7, "to": 3}
            return {"moved": action.input["quantity"]}

`TesseraMixin` is InvenTree's `UserInterfaceMixin` and `UrlsMixin`: each `@tessera_action`
method is a POST view at `/plugin/<slug>/<name>/`, bound to the action id
`plugin:<slug>/action:<name>`, that checks requests as spec §8 says (`tessera.django`), with
the signed-in user's primary key as the subject. Keys are derived (spec §3.7) from
InvenTree's `SECRET_KEY` (and `SECRET_KEY_FALLBACKS`, verify-only) with a label per plugin,
so every worker and the background worker agree without a file or a database write; the
environment variable `TESSERA_KEY_FILE_<SLUG>` (slug upper-cased, `-` as `_`) points at a
key file instead. The issuer is the site's URL (`INVENTREE_SITE_URL`), else `inventree`.
Single-use actions record their tokens in InvenTree's cache when it is shared by the
workers (Redis, `INVENTREE_CACHE_HOST`); with InvenTree's default per-process cache they are
refused with 503 `replay_unavailable` (never run unguarded).

This module imports InvenTree's plugin mixins: import it only inside InvenTree.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, path
from plugin.mixins import UrlsMixin, UserInterfaceMixin  # type: ignore[import-not-found]

from . import KeySet, TesseraError, mint
from .django.actions import ActionRoute, principal_of, receive, release
from .django.conf import PER_PROCESS_CACHES, Config
from .django.problems import problem

__all__ = [
    "TesseraMixin",
    "action_id",
    "key_label",
    "plugin_config",
    "site_issuer",
    "tessera_action",
]

#: The attribute a `@tessera_action` method carries.
MARK = "_tessera_action"
#: The panel helper (an ES module) that every TesseraMixin plugin serves at
#: `/plugin/<slug>/tessera.js` for its panel file to import.
PANEL_JS = Path(__file__).with_name("inventree_panel.js")


def action_id(slug: str, name: str) -> str:
    """The action id (the tokens' `aud`) of a plugin's action: `plugin:<slug>/action:<name>`."""
    return f"plugin:{slug}/action:{name}"


def key_label(slug: str) -> str:
    """The derivation label of a plugin's keys: one key set per plugin from one secret."""
    return f"inventree-plugin:{slug}"


def key_file_env(slug: str) -> str:
    """The environment variable that may point at a plugin's key file."""
    return "TESSERA_KEY_FILE_" + slug.upper().replace("-", "_")


def site_issuer() -> str:
    """The issuer: the site's URL as InvenTree knows it, else `inventree`."""
    site = getattr(settings, "SITE_URL", None)
    return str(site) if site else "inventree"


def plugin_keys(slug: str) -> KeySet:
    """The plugin's key set: its key file when `TESSERA_KEY_FILE_<SLUG>` names one, else
    derived from `SECRET_KEY` (with `SECRET_KEY_FALLBACKS` as verify-only keys)."""
    file = os.environ.get(key_file_env(slug))
    if file:
        return KeySet.from_file(file)

    def raw(secret: Any) -> bytes:
        return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)

    fallbacks = [raw(s) for s in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return KeySet.derive(raw(settings.SECRET_KEY), key_label(slug), fallbacks)


def shared_cache() -> Optional[str]:
    """InvenTree's default cache when every worker shares it (Redis), else None."""
    backend = getattr(settings, "CACHES", {}).get("default", {}).get("BACKEND", "")
    return None if backend in PER_PROCESS_CACHES or not backend else "default"


def user_pk(user: Any) -> str:
    """The subject of a signed-in user: the primary key."""
    return str(user.pk)


def plugin_config(slug: str, *, ttl: int = 300) -> Config:
    """The tessera configuration of one plugin (see the module's doc)."""
    return Config(
        issuer=site_issuer(),
        keys=plugin_keys(slug),
        ttl=ttl,
        leeway=30,
        max_lifetime=86400,
        body_limit=65536,
        replay_cache=shared_cache(),
        trusted_origins=(),
        subject=user_pk,
    )


Method = Callable[..., Any]


def tessera_action(
    name: str,
    *,
    single_use: bool = False,
    accept: str = "signed",
    payload: Optional[Callable[[Any], Any]] = None,
    input: Optional[Callable[[Any], Any]] = None,
) -> Callable[[Method], Method]:
    """Marks a plugin method `(self, request, action)` as the view of the action `name`,
    served at `/plugin/<slug>/<name>/`. It returns an HttpResponse, or a dict sent as JSON.
    `single_use`, `accept`, `payload`, `input` as in `tessera.django.action`."""
    if not name or "/" in name:
        raise ValueError("an action name is a non-empty URL path segment")

    def mark(method: Method) -> Method:
        setattr(method, MARK, (name, accept, single_use, payload, input))
        return method

    return mark


def _respond(result: Any) -> HttpResponse:
    if isinstance(result, HttpResponse):
        return result
    response = JsonResponse(result, safe=False)
    response["Cache-Control"] = "no-store"
    return response


def action_view(route: ActionRoute, method: Method, cfg: Callable[[], Config]) -> Method:
    """A Django view that runs `method(request, action)` on a verified request for `route`
    and answers refusals as problem+json; a single-use token is released when the method
    refuses (a 4xx), as `tessera.django.handle` does."""

    def view(request: HttpRequest) -> HttpResponse:
        config = cfg()
        try:
            act = receive(request, route, config)
        except TesseraError as e:
            return problem(e, route.id)
        try:
            response = _respond(method(request, act))
        except TesseraError as e:
            if 400 <= e.status < 500:
                release(act, config)
            return problem(e, route.id)
        if 400 <= response.status_code < 500:
            release(act, config)
        return response

    view.tessera_route = route  # type: ignore[attr-defined]
    return view


def panel_js(request: HttpRequest) -> HttpResponse:
    """The panel helper, as JavaScript (GET only)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = HttpResponse(PANEL_JS.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class TesseraMixin(UserInterfaceMixin, UrlsMixin):  # type: ignore[misc]
    """InvenTree's UserInterfaceMixin and UrlsMixin, with tessera buttons (see the module)."""

    #: Seconds a rendered button stays valid.
    TESSERA_TTL = 300

    _tessera_config: Optional[Config] = None

    def tessera_config(self) -> Config:
        """This plugin's configuration (loaded once per process)."""
        if self._tessera_config is None:
            self._tessera_config = plugin_config(self.slug, ttl=self.TESSERA_TTL)
        return self._tessera_config

    def action_id(self, name: str) -> str:
        """`plugin:<slug>/action:<name>`."""
        return action_id(self.slug, name)

    def action_url(self, name: str) -> str:
        """The URL path of an action's view: `/plugin/<slug>/<name>/`."""
        return f"/plugin/{self.slug}/{name}/"

    def tessera_button(
        self,
        request: Any,
        name: str,
        dat: Any = None,
        *,
        fpr: Optional[str] = None,
        ttl: Optional[int] = None,
    ) -> dict[str, Any]:
        """What a panel's `context` needs for one button: the token (for the request's user,
        carrying `dat`), the action's URL and id, and when the token expires (Unix time)."""
        cfg = self.tessera_config()
        now = int(time.time())
        lifetime = cfg.ttl if ttl is None else ttl
        token = mint(
            cfg.keys,
            iss=cfg.issuer,
            aud=self.action_id(name),
            dat=dat,
            sub=principal_of(request, cfg),
            ttl=lifetime,
            fpr=fpr,
            now=now,
            max_lifetime=cfg.max_lifetime,
        )
        return {
            "token": token,
            "action": self.action_id(name),
            "url": self.action_url(name),
            "expires": now + lifetime,
        }

    def tessera_routes(self) -> list[tuple[ActionRoute, Method]]:
        """The plugin's actions: each `@tessera_action` method with its route."""
        found = []
        for attr in dir(type(self)):
            method = getattr(type(self), attr, None)
            mark = getattr(method, MARK, None)
            if mark is None:
                continue
            name, accept, single_use, payload, input_type = mark
            route = ActionRoute(self.action_id(name), accept, single_use, payload, input_type)
            found.append((route, getattr(self, attr)))
        return found

    def setup_urls(self) -> list[URLPattern]:
        """The plugin's URL patterns: the panel helper (`tessera.js`), one view per action,
        then the plugin's own `URLS`."""
        patterns = [path("tessera.js", panel_js, name="tessera-js")]
        for route, method in self.tessera_routes():
            name = route.id.rsplit(":", 1)[1]
            patterns.append(
                path(f"{name}/", action_view(route, method, self.tessera_config), name=name)
            )
        own = super().setup_urls() or []
        return patterns + list(own)
