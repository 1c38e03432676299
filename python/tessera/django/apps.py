"""`INSTALLED_APPS += ["tessera.django"]`: checks the TESSERA settings when Django starts."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


class TesseraConfig(AppConfig):
    name = "tessera.django"
    label = "tessera"
    verbose_name = "tessera action tokens"

    def ready(self) -> None:
        from . import conf

        # Refused at startup (every worker, management commands too), not at the first click.
        conf.config()
        checks.register(check_settings, "tessera")


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check`: the TESSERA settings load (tessera.E001 otherwise)."""
    from . import conf

    try:
        conf.load()
    except ImproperlyConfigured as e:
        return [checks.Error(str(e), id="tessera.E001")]
    return []
