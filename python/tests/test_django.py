"""tessera.django through Django's test client: every refusal of spec §8 with its code and
status, CSRF still enforced, single-use actions through a real Redis (started here), a
per-process cache refused at startup, Redis down -> 503, stale-state fingerprints, keys
derived from SECRET_KEY and its fallbacks."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlencode

import pytest
from redis_server import free_port, redis_server

import tessera
from conftest import tampered
from tessera import _reference as ref

SECRET = "django-insecure-the-tessera-django-tests-secret-key-0123456789"
OLD_SECRET = "django-insecure-the-secret-key-before-rotation-9876543210"
TESTS = Path(__file__).resolve().parent
FORM = "application/x-www-form-urlencoded"


def settings_for(redis_port: int) -> dict[str, Any]:
    return {
        "DEBUG": False,
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": ["testserver"],
        "ROOT_URLCONF": "django_urls",
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "tessera.django",
        ],
        "MIDDLEWARE": [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{redis_port}",
            },
            # Nothing listens there: the replay guard is unreachable.
            "down": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{free_port()}",
            },
            "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        },
        "TEMPLATES": [{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        "USE_TZ": True,
        "TESSERA": {"ISSUER": "inventree", "REPLAY_CACHE": "default"},
    }


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    with redis_server() as port:
        yield port


@pytest.fixture(scope="session")
def django_setup(redis_port: int) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(**settings_for(redis_port))
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)


class SettingsOverride:
    """`settings.NAME = value` overrides a Django setting until the test ends."""

    _active: list[Any]

    def __init__(self) -> None:
        object.__setattr__(self, "_active", [])

    def __setattr__(self, name: str, value: Any) -> None:
        from django.test import override_settings

        override = override_settings(**{name: value})
        override.enable()
        self._active.append(override)

    def undo(self) -> None:
        while self._active:
            self._active.pop().disable()


@pytest.fixture
def settings(django_setup: None) -> Iterator[SettingsOverride]:
    override = SettingsOverride()
    yield override
    override.undo()


@pytest.fixture
def user(django_setup: None) -> Any:
    from django.contrib.auth.models import User

    found, _ = User.objects.get_or_create(username="alice")
    return found


@pytest.fixture
def client(user: Any) -> Any:
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def mint(
    aud: str,
    dat: Any = None,
    sub: Optional[str] = "user:1",
    *,
    now: Optional[int] = None,
    **kw: Any,
) -> str:
    from tessera.django.conf import config

    cfg = config()
    return tessera.mint(cfg.keys, iss=cfg.issuer, aud=aud, dat=dat, sub=sub, now=now, **kw)


def post(client: Any, url: str, body: Any = None, **extra: Any) -> Any:
    if body is None:
        return client.post(url, **extra)
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def empty(client: Any, url: str, **extra: Any) -> Any:
    """A POST without a body (the test client's default is an empty multipart body)."""
    return client.post(url, b"", content_type="text/plain", **extra)


def form(client: Any, url: str, fields: dict[str, str], **extra: Any) -> Any:
    """A urlencoded form post (the test client's default is multipart)."""
    return client.post(url, urlencode(fields), content_type=FORM, **extra)


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert response["Cache-Control"] == "no-store"
    problem: dict[str, Any] = json.loads(response.content)
    assert problem["code"] == code and problem["status"] == status
    assert problem["type"] == "https://tessera.invalid/problems/" + code
    assert problem["title"] and problem["detail"]
    return problem


TRANSFER_DAT = {"part_id": 1234, "qty": 25}


def signed_with_kid_of_sealing_key() -> str:
    """An HS256 header naming the derived A256GCM key (step 6: `unsupported_algorithm`)."""
    from tessera.django.conf import config

    kid = config().keys.active_sealing
    header = ref.b64e(json.dumps({"alg": "HS256", "typ": "tessera+jwt", "kid": kid}).encode())
    return f"{header}.{ref.b64e(b'{}')}.{ref.b64e(bytes(32))}"


def test_a_valid_click_runs_the_view_with_payload_input_and_user(client: Any, user: Any) -> None:
    from django_urls import TRANSFER

    token = mint(TRANSFER, TRANSFER_DAT, sub=f"user:{user.pk}")
    r = post(client, "/transfer", {"token": token, "input": {"qty": 3}})
    assert r.status_code == 200, r.content
    assert json.loads(r.content) == {"part": 1234, "moved": 3, "by": f"user:{user.pk}"}
    # The same token in the header with a form body, and as the form field.
    r = form(client, "/transfer", {"qty": "4"}, headers={"Tessera-Token": token})
    assert json.loads(r.content)["moved"] == 4
    r = form(client, "/transfer", {"tessera_token": token, "qty": "5"})
    assert json.loads(r.content)["moved"] == 5
    r = empty(client, "/transfer", headers={"Tessera-Token": token})  # no body: no input
    assert json.loads(r.content)["moved"] == 1


def test_the_page_renders_a_button_whose_form_post_works(client: Any, user: Any) -> None:
    page = client.get("/page")
    html = page.content.decode()
    token = html.split('name="tessera_token" value="')[1].split('"')[0]
    csrf = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    claims = tessera.inspect(token).claims
    assert claims is not None and claims["sub"] == f"user:{user.pk}"
    r = form(client, "/transfer", {"csrfmiddlewaretoken": csrf, "tessera_token": token, "qty": "2"})
    assert r.status_code == 200 and json.loads(r.content)["moved"] == 2


def test_csrf_stays_enforced(user: Any) -> None:
    from django.test import Client
    from django_urls import TRANSFER

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    token = mint(TRANSFER, TRANSFER_DAT, sub=f"user:{user.pk}")
    refused = post(strict, "/transfer", {"token": token})
    assert refused.status_code == 403 and b"CSRF" in refused.content
    strict.get("/page")
    csrf = strict.cookies["csrftoken"].value
    ok = post(strict, "/transfer", {"token": token}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 200, ok.content


def test_http_layer_refusals_have_the_servers_codes_and_statuses(client: Any, user: Any) -> None:
    from django_urls import TRANSFER

    token = mint(TRANSFER, TRANSFER_DAT, sub=f"user:{user.pk}")
    r = client.get("/transfer")
    assert_problem(r, 405, "method_not_allowed")
    assert r["Allow"] == "POST"
    cases: list[tuple[int, str, Any]] = [
        (403, "cross_origin", lambda: post(client, "/transfer", {"token": token},
                                           headers={"Sec-Fetch-Site": "cross-site"})),
        (403, "cross_origin", lambda: post(client, "/transfer", {"token": token},
                                           headers={"Origin": "https://evil.example"})),
        (400, "malformed", lambda: empty(client, "/transfer",
                                         headers={"Tessera-Token": f"{token},{token}"})),
        (400, "malformed", lambda: empty(client, "/transfer", headers={"Tessera-Token": "a b"})),
        (400, "malformed", lambda: post(client, "/transfer", {"token": token},
                                        CONTENT_LENGTH="12x")),
        (413, "too_large", lambda: post(client, "/transfer", {"token": token},
                                        CONTENT_LENGTH=str(65537))),
        (413, "too_large", lambda: post(client, "/transfer", {"token": token + "A" * 65536})),
        (415, "unsupported_media_type", lambda: client.post("/transfer", token,
                                                            content_type="text/plain")),
        (400, "malformed", lambda: client.post("/transfer", json.dumps([token]),
                                               content_type="application/json")),
        (400, "malformed", lambda: post(client, "/transfer", {"token": token, "more": 1})),
        (400, "malformed", lambda: client.post("/transfer", '{"token": 1}',
                                               content_type="application/json")),
        (400, "malformed", lambda: client.post("/transfer", "{", content_type="application/json")),
        (400, "malformed", lambda: post(client, "/transfer", {"token": token},
                                        headers={"Tessera-Token": token})),
        (400, "malformed", lambda: client.post(
            "/transfer", f"tessera_token={token}&tessera_token={token}",
            content_type="application/x-www-form-urlencoded")),
        (400, "malformed", lambda: client.post("/transfer", json.dumps({"token": token}),
                                               content_type="application/json, text/plain")),
        (400, "malformed", lambda: client.post("/transfer", "tessera_token=%FF&qty=1",
                                               content_type=FORM)),
        (422, "bad_input", lambda: client.post("/transfer", f"tessera_token={token}&qty=%FF",
                                               content_type=FORM)),
        (422, "bad_input", lambda: client.post("/transfer", f"tessera_token={token}&%FF=1",
                                               content_type=FORM)),
        # A bad token and a bad input: refused for the token (the input is read after it).
        (401, "bad_signature", lambda: client.post(
            "/transfer", f"tessera_token={tampered(token)}&qty=%FF", content_type=FORM)),
        (400, "missing_token", lambda: empty(client, "/transfer")),
        (400, "missing_token", lambda: post(client, "/transfer", {"input": {"qty": 1}})),
        (422, "bad_input", lambda: post(client, "/transfer", {"token": token,
                                                              "input": {"qty": 1000}})),
        (422, "bad_input", lambda: client.post("/transfer", f'{{"token": "{token}", "input": '
                                               '{"qty": 1, "qty": 900}}',
                                               content_type="application/json")),
        (422, "bad_input", lambda: client.post("/transfer", f'{{"token": "{token}", "input": '
                                               '{"qty": 1, "n": 1e400}}',
                                               content_type="application/json")),
        (422, "bad_input", lambda: client.post("/transfer", f'{{"token": "{token}", "input": '
                                               '{"qty": 1, "n": ' + "9" * 400 + '}}',
                                               content_type="application/json")),
        (422, "bad_input", lambda: client.post("/transfer", "qty=1&qty=900",
                                               content_type="application/x-www-form-urlencoded",
                                               headers={"Tessera-Token": token})),
    ]  # fmt: skip
    for status, code, call in cases:
        problem = assert_problem(call(), status, code)
        assert token not in json.dumps(problem)
    # Same-origin browsers and trusted origins pass.
    same = post(client, "/transfer", {"token": token}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200
    assert (
        post(
            client, "/transfer", {"token": token}, headers={"Sec-Fetch-Site": "same-origin"}
        ).status_code
        == 200
    )


def test_token_refusals_have_the_verifiers_codes(client: Any, user: Any, settings: Any) -> None:
    from django_urls import REVEAL, TRANSFER

    me = f"user:{user.pk}"
    expired = mint(TRANSFER, TRANSFER_DAT, sub=me, now=int(time.time()) - 1000)
    other_key = tessera.mint(
        tessera.KeySet.generate("HS256"), iss="inventree", aud=TRANSFER, dat=TRANSFER_DAT, sub=me
    )
    good = mint(TRANSFER, TRANSFER_DAT, sub=me)
    cases: list[tuple[int, str, str]] = [
        (401, "expired", expired),
        (401, "unknown_key", other_key),
        (401, "bad_signature", tampered(good)),
        (400, "malformed", "not-a-token"),
        (413, "too_large", "a" * 9000),
        (403, "wrong_audience", mint(REVEAL, TRANSFER_DAT, sub=me)),
        (403, "wrong_subject", mint(TRANSFER, TRANSFER_DAT, sub="user:999")),
        (400, "malformed", mint(TRANSFER, TRANSFER_DAT, sub=me, sealed=True)),
        (422, "bad_payload", mint(TRANSFER, {"part_id": "x"}, sub=me)),
        (
            401,
            "not_yet_valid",
            mint(TRANSFER, TRANSFER_DAT, sub=me, ttl=3600, nbf=int(time.time()) + 1000),
        ),
        (401, "unsupported_algorithm", signed_with_kid_of_sealing_key()),
    ]
    for status, code, token in cases:
        assert_problem(post(client, "/transfer", {"token": token}), status, code)
    settings.TESSERA = {"ISSUER": "inventree", "MAX_LIFETIME": 299}
    assert_problem(post(client, "/transfer", {"token": good}), 401, "lifetime_too_long")
    # Same keys (the label), another issuer.
    settings.TESSERA = {"ISSUER": "another-app", "LABEL": "inventree"}
    assert_problem(post(client, "/transfer", {"token": good}), 403, "wrong_issuer")


def test_anonymous_callers_get_only_anonymous_tokens(user: Any) -> None:
    from django.test import Client
    from django_urls import TRANSFER

    anonymous = Client()
    assert_problem(
        post(anonymous, "/transfer", {"token": mint(TRANSFER, TRANSFER_DAT)}), 403, "wrong_subject"
    )
    r = post(anonymous, "/transfer", {"token": mint(TRANSFER, TRANSFER_DAT, sub=None)})
    assert r.status_code == 200 and json.loads(r.content)["by"] is None


def test_sealed_route_takes_sealed_tokens_only(client: Any, user: Any) -> None:
    from django_urls import REVEAL

    me = f"user:{user.pk}"
    sealed = mint(REVEAL, {"salary": 1}, sub=me, sealed=True)
    assert "salary" not in sealed
    assert json.loads(post(client, "/reveal", {"token": sealed}).content) == {"salary": 1}
    assert_problem(
        post(client, "/reveal", {"token": mint(REVEAL, {"salary": 1}, sub=me)}), 400, "malformed"
    )


def test_single_use_runs_once_through_redis(client: Any, user: Any, redis_port: int) -> None:
    import redis
    from django_urls import CONFIRM

    token = mint(CONFIRM, {"n": 1}, sub=f"user:{user.pk}")
    assert post(client, "/confirm", {"token": token}).status_code == 200
    assert_problem(post(client, "/confirm", {"token": token}), 409, "replayed")
    # The record is in the shared Redis, kept until exp + leeway + 60 s.
    keys = redis.Redis(port=redis_port).keys("*tessera:jti:*")
    assert len(keys) >= 1
    ttl = redis.Redis(port=redis_port).ttl(keys[0])
    assert 300 < ttl <= 300 + 30 + 60


def test_another_process_sharing_redis_sees_the_use(
    client: Any, user: Any, redis_port: int
) -> None:
    from django_urls import CONFIRM

    token = mint(CONFIRM, {"n": 2}, sub=f"user:{user.pk}")
    script = f"""
import json, sys
sys.path.insert(0, {str(TESTS)!r})
import django
from django.conf import settings
from test_django import settings_for
settings.configure(**settings_for({redis_port}))
django.setup()
from django.test import Client
from django.core.management import call_command
call_command("migrate", run_syncdb=True, verbosity=0)
from django.contrib.auth.models import User
c = Client(); c.force_login(User.objects.create(username="alice"))
r = c.post("/confirm", json.dumps({{"token": sys.argv[1]}}), content_type="application/json")
print(r.status_code)
"""
    other = subprocess.run(
        [sys.executable, "-c", script, token], capture_output=True, text=True, timeout=60, cwd=TESTS
    )
    assert other.stdout.strip() == "200", other.stderr
    assert_problem(post(client, "/confirm", {"token": token}), 409, "replayed")


def test_unreachable_or_missing_replay_cache_fails_closed(
    client: Any, user: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from django_urls import CONFIRM

    me = f"user:{user.pk}"
    settings.TESSERA = {"ISSUER": "inventree", "REPLAY_CACHE": "down"}
    with caplog.at_level(logging.WARNING, logger="tessera.rejection"):
        problem = assert_problem(
            post(client, "/confirm", {"token": mint(CONFIRM, 1, sub=me)}), 503, "replay_unavailable"
        )
    # The cause is logged; the client's detail is generic.
    assert "ConnectionError" in caplog.text and "Connection" not in problem["detail"]
    settings.TESSERA = {"ISSUER": "inventree"}
    assert_problem(
        post(client, "/confirm", {"token": mint(CONFIRM, 1, sub=me)}), 503, "replay_unavailable"
    )


def test_stale_state_is_refused_and_releases_the_single_use(client: Any, user: Any) -> None:
    from django_urls import LEDGER, RETURN_ALL

    me = f"user:{user.pk}"
    LEDGER["version"] = "ledger:v1"
    rendered = mint(RETURN_ALL, {"part": 7}, sub=me, fpr="ledger:v1")
    unbound = mint(RETURN_ALL, {"part": 7}, sub=me)
    LEDGER["version"] = "ledger:v2"
    assert_problem(post(client, "/return-all", {"token": rendered}), 409, "stale")
    assert_problem(post(client, "/return-all", {"token": unbound}), 409, "stale")
    # The refusal released the use: with the state back as rendered, the button works once.
    LEDGER["version"] = "ledger:v1"
    assert post(client, "/return-all", {"token": rendered}).status_code == 200
    assert_problem(post(client, "/return-all", {"token": rendered}), 409, "replayed")


def test_per_process_caches_are_refused_with_a_clear_message(
    settings: Any, django_setup: None
) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from tessera.django import conf
    from tessera.django.apps import check_settings

    settings.TESSERA = {"ISSUER": "inventree", "REPLAY_CACHE": "local"}
    with pytest.raises(ImproperlyConfigured, match=r"LocMemCache.*per process"):
        conf.load()
    assert [e.id for e in check_settings()] == ["tessera.E001"]
    settings.TESSERA = {"ISSUER": "inventree"}
    import django_urls  # noqa: F401  (declares single-use actions)

    assert [e.id for e in check_settings()] == ["tessera.E002"]
    settings.TESSERA = {"ISSUER": "inventree", "REPLAY_CACHE": "default"}
    assert check_settings() == []
    settings.TESSERA = {"ISSUER": "inventree", "REPLAY_CACHE": "nope"}
    with pytest.raises(ImproperlyConfigured, match="not a cache"):
        conf.load()
    settings.TESSERA = {"ISSUER": "", "REPLAY_CACHE": "default"}
    with pytest.raises(ImproperlyConfigured, match="ISSUER"):
        conf.load()


def test_django_refuses_to_start_with_a_locmem_replay_cache() -> None:
    script = """
import django
from django.conf import settings
settings.configure(SECRET_KEY="x" * 50, INSTALLED_APPS=["tessera.django"],
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    TESSERA={"ISSUER": "inventree", "REPLAY_CACHE": "default"})
django.setup()
"""
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=TESTS.parent.parent,
    )
    assert run.returncode != 0
    assert "ImproperlyConfigured" in run.stderr and "LocMemCache" in run.stderr


def test_keys_come_from_secret_key_and_fallbacks_keep_old_buttons(
    client: Any, user: Any, settings: Any
) -> None:
    from django_urls import TRANSFER

    from tessera.django.conf import config

    me = f"user:{user.pk}"
    assert config().keys.active == tessera.KeySet.derive(SECRET.encode(), "inventree").active
    settings.SECRET_KEY = OLD_SECRET
    old_button = mint(TRANSFER, TRANSFER_DAT, sub=me)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = SECRET, [OLD_SECRET]
    assert post(client, "/transfer", {"token": old_button}).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert_problem(post(client, "/transfer", {"token": old_button}), 401, "unknown_key")


def test_a_key_file_overrides_the_secret(
    client: Any, user: Any, settings: Any, tmp_path: Path
) -> None:
    from django_urls import TRANSFER

    keys = tessera.KeySet.generate("EdDSA")
    path = tmp_path / "keys.json"
    path.write_text(keys.to_json())
    settings.TESSERA = {"ISSUER": "inventree", "KEYS": {"file": str(path)}}
    token = mint(TRANSFER, TRANSFER_DAT, sub=f"user:{user.pk}")
    assert tessera.inspect(token).header["alg"] == "EdDSA"
    assert post(client, "/transfer", {"token": token}).status_code == 200
    os.environ["TESSERA_TEST_DJANGO_KEYS"] = keys.to_json()
    settings.TESSERA = {"ISSUER": "inventree", "KEYS": {"env": "TESSERA_TEST_DJANGO_KEYS"}}
    assert post(client, "/transfer", {"token": token}).status_code == 200


def test_buttons_take_the_kind_their_route_accepts(client: Any, user: Any) -> None:
    from django.test import RequestFactory
    from django_urls import reveal, transfer

    from tessera.django import button_for

    request = RequestFactory().get("/page")
    request.user = user
    signed = button_for(request, transfer.tessera_route, "/transfer", TRANSFER_DAT)
    sealed = button_for(request, reveal.tessera_route, "/reveal", {"salary": 1})
    assert signed["method"] == "POST" and signed["url"] == "/transfer"
    claims = tessera.inspect(signed["token"]).claims
    assert claims is not None and claims["exp"] == signed["expires_at"]
    assert tessera.inspect(sealed["token"]).kind == "sealed"
    assert post(client, signed["url"], {"token": signed["token"]}).status_code == 200
    opened = post(client, sealed["url"], {"token": sealed["token"]})
    assert json.loads(opened.content) == {"salary": 1}


def test_a_sealed_routes_action_keeps_its_payload_out_of_its_repr(user: Any) -> None:
    from django.test import RequestFactory
    from django_urls import REVEAL

    from tessera.django import ActionRoute, receive

    token = mint(REVEAL, {"salary": 98765}, sub=f"user:{user.pk}", sealed=True)
    request = RequestFactory().post("/reveal", json.dumps({"token": token}),
                                    content_type="application/json")  # fmt: skip
    request.user = user
    act = receive(request, ActionRoute(REVEAL, accept="sealed"))
    assert act.payload == {"salary": 98765}
    assert "98765" not in repr(act) and "98765" not in repr(act.claims)
