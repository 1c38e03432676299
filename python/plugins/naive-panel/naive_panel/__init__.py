"""naive-panel — A COUNTER-EXAMPLE, DO NOT COPY: the pattern of InvenTree issue #9363.

`get_ui_panels` keeps the panel's data on `self` and the button's view reads it back. With
gunicorn's several worker processes (and threads), the click is often served by a worker
that did not render the panel — it finds nothing (or another request's data) and fails.
tessera-stock-tools does the same with the data in a signed token instead.

The click does not change any stock: it only reports what it found on `self`, so that the
end-to-end tests can show the failure beside tessera's success in the same run.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from plugin import InvenTreePlugin
from plugin.mixins import UrlsMixin, UserInterfaceMixin


class NaivePanel(UserInterfaceMixin, UrlsMixin, InvenTreePlugin):
    """Panel data on `self` between render and click (#9363): fails across workers."""

    NAME = "NaivePanel"
    SLUG = "naive-panel"
    TITLE = "naive panel (counter-example of InvenTree #9363)"
    DESCRIPTION = "Keeps panel data on self between render and click: fails on other workers"
    VERSION = "0.1.0"
    AUTHOR = "tessera"

    def get_ui_panels(self, request: Any, context: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if (context or {}).get("target_model") != "stockitem":
            return []
        # The #9363 pattern: the data the button needs is kept on self, in this process.
        self.mydata = {"item": context.get("target_id"), "user": request.user.pk}
        return [
            {
                "key": "naive-panel",
                "title": "Naive panel (#9363 counter-example)",
                "description": "Keeps its data on self: fails when another worker gets the click",
                "icon": "ti:alert-triangle:outline",
                "source": self.plugin_static_file("panel.js:renderPanel"),
                "context": {"pid": os.getpid(), "url": f"/plugin/{self.slug}/click/"},
            }
        ]

    def click(self, request: HttpRequest) -> JsonResponse:
        """The button's view: reads back what get_ui_panels left on self."""
        if request.method != "POST":
            return JsonResponse({"error": "POST only"}, status=405)
        data = getattr(self, "mydata", None)
        if data is None:
            return JsonResponse(
                {
                    "error": "panel data not found: this worker did not render the panel",
                    "pid": os.getpid(),
                },
                status=409,
            )
        return JsonResponse({"item": data["item"], "pid": os.getpid()})

    def setup_urls(self) -> list[Any]:
        return [path("click/", self.click, name="click")]
