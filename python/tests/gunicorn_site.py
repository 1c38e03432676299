"""A Django site for the multi-worker test: settings from the environment, the WSGI app,
and two views (a page that mints an anonymous button, a single-use action), each answering
with the worker's pid. Run by gunicorn in test_gunicorn.py."""

from __future__ import annotations

import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ["SITE_SECRET_KEY"],
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["tessera.django"],
    MIDDLEWARE=[],
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{os.environ['SITE_REDIS_PORT']}",
        }
    },
    TESSERA={"ISSUER": "inventree", "REPLAY_CACHE": "default"},
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

from tessera.django import Action, action, mint_for  # noqa: E402

CONFIRM = "plugin:stock-tools/action:confirm-transfer"


def page(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"token": mint_for(request, CONFIRM, {"n": 1}), "pid": os.getpid()})


@action(CONFIRM, single_use=True)
def confirm(request: HttpRequest, act: Action) -> HttpResponse:
    return JsonResponse({"confirmed": act.payload, "pid": os.getpid()})


urlpatterns = [path("page", page), path("confirm", confirm)]
application = get_wsgi_application()
