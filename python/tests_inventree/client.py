"""A browser-like client of InvenTree: a session signed in through InvenTree's own login API
(the CSRF cookie, then the login with the `X-CSRFToken` header), panels fetched as the UI
fetches them, and button clicks posted as the panel's JavaScript posts them. Every request
goes over a fresh connection (`Connection: close`), as clicks from several users do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import requests

TIMEOUT = 60


@dataclass
class Browser:
    """One signed-in user's session: its cookies (session id and CSRF token)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def login(cls, base: str, username: str, password: str) -> Browser:
        b = cls(base)
        r = b.request("GET", "/api/auth/v1/auth/session")
        assert "csrftoken" in b.cookies, (
            f"no CSRF cookie from the session endpoint: {r.status_code}"
        )
        r = b.request(
            "POST", "/api/auth/v1/auth/login", json={"username": username, "password": password}
        )
        assert r.status_code == 200, f"login of {username}: {r.status_code} {r.text[:300]}"
        assert "sessionid" in b.cookies
        return b

    def headers(self, csrf: bool = True) -> dict[str, str]:
        h = {"Connection": "close", "Accept": "application/json", "Referer": self.base + "/web/"}
        if csrf and "csrftoken" in self.cookies:
            h["X-CSRFToken"] = self.cookies["csrftoken"]
        return h

    def request(
        self,
        method: str,
        path: str,
        *,
        csrf: bool = True,
        headers: Optional[dict[str, str]] = None,
        **kw: Any,
    ) -> requests.Response:
        h = self.headers(csrf)
        h.update(headers or {})
        r = requests.request(
            method,
            self.base + path,
            headers=h,
            cookies=self.cookies,
            timeout=TIMEOUT,
            allow_redirects=False,
            **kw,
        )
        self.cookies.update(r.cookies.get_dict())
        return r

    def api(self, method: str, path: str, **kw: Any) -> Any:
        """An InvenTree API call that must succeed; its JSON."""
        r = self.request(method, path, **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.content else None

    def panels(self, model: str, pk: int) -> dict[str, dict[str, Any]]:
        """The plugin panels of an object's page, by plugin slug, as the UI fetches them."""
        r = self.request(
            "GET", f"/api/plugins/ui/features/panel/?target_model={model}&target_id={pk}"
        )
        assert r.status_code == 200, f"panels: {r.status_code} {r.text[:300]}"
        return {p["plugin_name"]: p for p in r.json()}

    def click(
        self,
        button: dict[str, Any],
        input: Any = None,
        *,
        csrf: bool = True,
        token: Optional[str] = None,
        url: Optional[str] = None,
    ) -> requests.Response:
        """Posts `{token, input}` to a tessera button's URL, as the panel helper does."""
        body = {"token": button["token"] if token is None else token, "input": input}
        return self.request("POST", url or button["url"], json=body, csrf=csrf)
