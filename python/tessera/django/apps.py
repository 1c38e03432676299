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
    """`manage.py check`: the TESSERA settings load (tessera.E001 otherwise), and single-use
    actions have a replay cache (tessera.E002 otherwise)."""
    from . import SINGLE_USE, conf

    try:
        loaded = conf.load()
    except ImproperlyConfigured as e:
        return [checks.Error(str(e), id="tessera.E001")]
    if SINGLE_USE and loaded.replay_cache is None:
        names = ", ".join(sorted({route.id for route in SINGLE_USE}))
        return [
            checks.Error(
                f"single-use actions ({names}) need TESSERA['REPLAY_CACHE'], a cache shared by "
                "every worker (e.g. RedisCache); without it their requests fail with 503 "
                "replay_unavailable",
                id="tessera.E002",
            )
        ]
    return []
