"""tessera-stock-tools: panels on an InvenTree stock item whose buttons carry their data in
tessera tokens, so that any gunicorn worker can serve any click (InvenTree issue #9363).

Three buttons, each acting on InvenTree's own stock through InvenTree's models and working
only from the token's payload (what the server decided when it rendered the panel) and the
user's input (what the user typed):

- move: moves N pieces of this stock item to a location chosen when the panel was rendered
  (N from the user, at most the `max` the panel offered);
- label: prints a label for this stock item with InvenTree's label templates and its
  built-in PDF label printer;
- count: a single-use "count and adjust" — sets the quantity to what the user counted,
  once per rendered panel.

Every panel context and action result carries `pid`, the worker process that produced it
(the end-to-end tests use it to prove that clicks cross workers).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import JsonResponse
from plugin import InvenTreePlugin

from tessera.django import Refusal
from tessera.inventree import TesseraMixin, tessera_action

#: The most pieces one click of "move" may move.
MOVE_MAX = 10


def item_payload(value: Any) -> dict[str, int]:
    """The payload of every button: the stock item's primary key (and, for move, more)."""
    if not isinstance(value, dict) or type(value.get("item")) is not int:
        raise ValueError("not a stock item payload")
    return value


def whole(value: Any, low: int, high: int) -> int:
    """A whole number in low..=high from the user's input, else `bad_input`."""
    if type(value) is not int or not low <= value <= high:
        raise Refusal("bad_input", f"a whole number from {low} to {high} is expected")
    return value


def refused(reason: str, status: int = 409, **extra: Any) -> JsonResponse:
    """A business refusal (the action did not run): a 4xx, so a single-use token is kept
    usable."""
    return JsonResponse({"error": reason, "pid": os.getpid(), **extra}, status=status)


class TesseraStockTools(TesseraMixin, InvenTreePlugin):
    """Stock item panels with tessera buttons."""

    NAME = "TesseraStockTools"
    SLUG = "tessera-stock-tools"
    TITLE = "tessera stock tools"
    DESCRIPTION = "Stock item buttons that work on every worker (tessera action tokens)"
    VERSION = "0.1.0"
    AUTHOR = "tessera"

    def get_ui_panels(self, request: Any, context: Any, **kwargs: Any) -> list[dict[str, Any]]:
        from stock.models import StockItem, StockLocation

        if (context or {}).get("target_model") != "stockitem":
            return []
        try:
            item = StockItem.objects.get(pk=int(context.get("target_id")))
        except (StockItem.DoesNotExist, TypeError, ValueError):
            return []
        # The destination is chosen now, at render time: it travels in the token.
        dest = StockLocation.objects.exclude(pk=item.location_id).order_by("pk").first()
        panel: dict[str, Any] = {
            "pid": os.getpid(),
            "item": item.pk,
            "quantity": float(item.quantity),
            "label": self.tessera_button(request, "label", {"item": item.pk}),
            "count": self.tessera_button(
                request, "count", {"item": item.pk, "seen": float(item.quantity)}
            ),
        }
        if dest is not None:
            panel["destination"] = {"pk": dest.pk, "name": dest.name}
            panel["move"] = self.tessera_button(
                request, "move", {"item": item.pk, "to": dest.pk, "max": MOVE_MAX}
            )
        return [
            {
                "key": "tessera-stock-tools",
                "title": "Stock tools (tessera)",
                "description": "Move, label, count: buttons that work on every worker",
                "icon": "ti:transfer:outline",
                "source": self.plugin_static_file("panel.js:renderPanel"),
                "context": panel,
            }
        ]

    @staticmethod
    def may_change_stock(user: Any) -> bool:
        """InvenTree's own permission check: may this user change stock items?"""
        from stock.models import StockItem
        from users.permissions import check_user_permission

        return bool(check_user_permission(user, StockItem, "change"))

    @staticmethod
    def locked_item(pk: int) -> Any:
        """The stock item, locked for this transaction (a row lock where the database has
        them; SQLite serialises write transactions, see python/INVENTREE.md)."""
        from stock.models import StockItem

        return StockItem.objects.select_for_update().filter(pk=pk).first()

    @tessera_action("move", payload=item_payload)
    def move(self, request: Any, action: Any) -> Any:
        """Moves `input.quantity` pieces of the item to the location chosen at render time."""
        from stock.models import StockLocation

        data = action.payload
        n = whole((action.input or {}).get("quantity"), 1, int(data.get("max", MOVE_MAX)))
        if not self.may_change_stock(request.user):
            return refused("this user may not change stock items", 403)
        with transaction.atomic():
            item = self.locked_item(data["item"])
            dest = StockLocation.objects.filter(pk=data.get("to")).first()
            if item is None or dest is None:
                return refused("the stock item or the location no longer exists", 404)
            if item.quantity < n:
                return refused("not enough stock", quantity=float(item.quantity))
            item.move(dest, f"tessera: {n} moved", request.user, quantity=Decimal(n))
            item.refresh_from_db()
        return {
            "moved": n,
            "item": item.pk,
            "to": dest.pk,
            "remaining": float(item.quantity),
            "pid": os.getpid(),
        }

    @tessera_action("label", payload=item_payload)
    def label(self, request: Any, action: Any) -> Any:
        """Prints a label for the item with InvenTree's own label machinery (the first enabled
        stock item label template, rendered to PDF by the built-in `inventreelabel` plugin)
        and returns the output's file and the label's text."""
        from django.core.exceptions import ValidationError
        from plugin.registry import registry
        from report.models import LabelTemplate
        from stock.models import StockItem

        item = (
            StockItem.objects.select_related("part", "location")
            .filter(pk=action.payload["item"])
            .first()
        )
        if item is None:
            return refused("the stock item no longer exists", 404)
        template = (
            LabelTemplate.objects.filter(model_type="stockitem", enabled=True)
            .order_by("pk")
            .first()
        )
        printer = registry.get_plugin("inventreelabel")
        if template is None or printer is None:
            return refused("no stock item label template or label printer", 404)
        try:
            output = template.print([item], printer, request=request)
        except ValidationError as e:
            return refused(f"the label was not printed: {'; '.join(e.messages)}", 422)
        lines = [item.part.full_name, f"Qty {item.quantity.normalize():f}"]
        if item.location is not None:
            lines.append(item.location.pathstring)
        lines.append(f"Stock item #{item.pk}")
        return {
            "label": "\n".join(lines),
            "template": template.name,
            "output": output.output.name if output.output else None,
            "complete": bool(output.complete),
            "item": item.pk,
            "pid": os.getpid(),
        }

    @tessera_action("count", payload=item_payload, single_use=True)
    def count(self, request: Any, action: Any) -> Any:
        """Count and adjust, once per rendered panel: the quantity becomes `input.count`."""
        counted = whole((action.input or {}).get("count"), 0, 10**9)
        if not self.may_change_stock(request.user):
            return refused("this user may not change stock items", 403)
        with transaction.atomic():
            item = self.locked_item(action.payload["item"])
            if item is None:
                return refused("the stock item no longer exists", 404)
            before = float(item.quantity)
            item.stocktake(counted, request.user, notes="tessera: counted")
            item.refresh_from_db()
        return {
            "counted": counted,
            "before": before,
            "item": item.pk,
            "quantity": float(item.quantity),
            "pid": os.getpid(),
        }
