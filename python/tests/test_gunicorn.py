"""The problem tessera solves, with a real prefork server: gunicorn with several worker
processes runs the Django site (keys derived from the shared SECRET_KEY, replay records in a
shared Redis). A button minted by one worker is clicked on another and runs once; its second
use is refused."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_server import free_port, redis_server

TESTS = Path(__file__).resolve().parent
WORKERS = 3


def request(port: int, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json", "Connection": "close"}
        conn.request(method, path, payload, headers if payload else {"Connection": "close"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def site() -> Iterator[int]:
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    if not os.path.exists(gunicorn):
        pytest.fail("gunicorn is not installed (python/ci.sh installs it)")
    with redis_server() as redis_port:
        port = free_port()
        env = dict(os.environ, SITE_REDIS_PORT=str(redis_port),
                   SITE_SECRET_KEY="django-insecure-multi-worker-test-secret-0123456789",
                   PYTHONPATH=str(TESTS))  # fmt: skip
        server = subprocess.Popen(
            [gunicorn, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "gunicorn_site:application"],
            env=env, cwd=TESTS, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if request(port, "GET", "/page")[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.1)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_a_button_minted_by_one_worker_runs_once_on_another(site: int) -> None:
    crossed = 0
    for _ in range(60):
        status, page = request(site, "GET", "/page")
        assert status == 200
        status, first = request(site, "POST", "/confirm", {"token": page["token"]})
        assert status == 200 and first["confirmed"] == {"n": 1}, first
        crossed += first["pid"] != page["pid"]
        # A second use is refused by whichever worker gets it (the record is in Redis).
        status, again = request(site, "POST", "/confirm", {"token": page["token"]})
        assert status == 409 and again["code"] == "replayed", again
        if crossed >= 3:
            break
    # Workers share no memory: clicks were served by a worker that did not render the button.
    assert crossed >= 3
