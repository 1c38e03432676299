"""A real InvenTree for the end-to-end tests: a copy of its backend, SQLite, the two sample
plugins loaded from a folder and active from the first request, gunicorn with 4 workers on
127.0.0.1 and an ephemeral port, and redis-server as InvenTree's cache. Everything it starts
it stops (`InvenTree.stop`, `Redis.stop`), also when a test fails.

The tests run in InvenTree's own virtual environment (python/inventree_ci.sh builds it once
per requirements hash and reuses it), so `sys.executable` is the Python that runs InvenTree.

How the plugins are active before any worker starts: InvenTree's setting
`INVENTREE_PLUGINS_MANDATORY` (plugin/registry.py `_init_plugin`: a mandatory plugin is
loaded, and marked active in the database, by every process that loads the registry — the
gunicorn master with `preload_app`, before it forks). Activating through
`PATCH /api/plugins/<slug>/activate/` instead changes the registry only in the worker that
served the PATCH; the others reload when a request reaches a registry entry point
(`registry_entrypoint` → `check_reload`), which the URL resolver of `/plugin/<slug>/...`
never is — so until then they answer the plugin's URLs with the catch-all redirect of
`plugin/urls.py` (302 to /web).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import requests

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
REPO = PYTHON_DIR.parent
PLUGINS_DIR = PYTHON_DIR / "plugins"
#: The plugin packages the suite loads from a folder: (project folder, package, slug).
PLUGINS = [
    ("tessera-stock-tools", "tessera_stock_tools", "tessera-stock-tools"),
    ("naive-panel", "naive_panel", "naive-panel"),
]
ADMIN = ("admin", "admin-pass-0123456789")


def inventree_source() -> Path:
    """InvenTree's source: $INVENTREE_SRC, else ../shared/inventree beside the repository."""
    given = os.environ.get("INVENTREE_SRC")
    candidates = [Path(given)] if given else []
    candidates += [REPO.parent / "shared" / "inventree", Path("/work/shared/inventree")]
    for c in candidates:
        if (c / "src" / "backend" / "InvenTree" / "manage.py").exists():
            return c
    raise RuntimeError("InvenTree's source is not found (set INVENTREE_SRC)")


def cache_dir() -> Path:
    """Where migrated template databases are kept between runs."""
    root = Path(os.environ.get("INVENTREE_CACHE", REPO / "target" / "inventree-cache"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(
    what: str,
    check: Any,
    timeout: float,
    proc: Optional[subprocess.Popen[Any]] = None,
    log: Optional[Path] = None,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise RuntimeError(f"{what}: the process ended ({proc.returncode})\n{tail}")
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise RuntimeError(f"{what}: not ready within {timeout} s\n{tail}")
        time.sleep(0.1)


class Redis:
    """redis-server on 127.0.0.1 and a port of its own, without persistence."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.proc: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (python/inventree_ci.sh installs it)")
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for("redis-server", self.ping, 15, self.proc)

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def _tree_key(folder: Path) -> str:
    """A key of a source tree: every file's path and size, and the interpreter's version."""
    h = hashlib.sha256(sys.version.encode())
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(f"{p.relative_to(folder)}:{p.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


def compiled_backend(backend: Path) -> Path:
    """A copy of InvenTree's backend with its bytecode compiled, cached per source tree.
    Without it every process (manage.py, gunicorn) of every run compiles InvenTree's whole
    source again: a minute of CPU on a busy 2-core machine."""
    cached = cache_dir() / f"backend-{_tree_key(backend)}"
    if cached.exists():
        return cached
    tmp = cached.with_name(f"{cached.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(backend, tmp, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", str(tmp / "InvenTree")],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=900,
    )
    tmp.replace(cached)
    return cached


def _migrations_key(backend: Path) -> str:
    """A key of the migrated schema: the requirements and every migration file's name and size."""
    h = hashlib.sha256((backend / "requirements.txt").read_bytes())
    h.update(sys.version.encode())
    for p in sorted((backend / "InvenTree").glob("*/migrations/*.py")):
        h.update(f"{p.relative_to(backend)}:{p.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


@dataclass
class InvenTree:
    """One InvenTree site in `root` (a fresh folder): its code, data and logs."""

    root: Path
    redis: Optional[Redis] = None
    #: Whether the plugins' static files are collected (their panel JavaScript).
    static: bool = True
    workers: int = 4
    #: The plugins active from the start (INVENTREE_PLUGINS_MANDATORY); None: both.
    mandatory: Optional[list[str]] = None
    #: More environment for InvenTree's processes (e.g. a plugin's key file).
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: Optional[subprocess.Popen[bytes]] = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def backend(self) -> Path:
        return self.root / "src" / "backend"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.data / "gunicorn.log"

    # -- set-up ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Copies InvenTree and the plugins, writes the configuration, migrates (or copies
        the cached migrated database)."""
        t0 = time.monotonic()
        src = inventree_source()
        shutil.copytree(compiled_backend(src / "src" / "backend"), self.backend)
        shutil.copy(
            src / "contrib" / "container" / "gunicorn.conf.py", self.root / "gunicorn.conf.py"
        )
        self.data.mkdir(parents=True)
        for sub in ("media", "static", "backup"):
            (self.data / sub).mkdir()
        plugins = self.data / "plugins"
        (plugins / "hostplugins").mkdir(parents=True)
        (plugins / "hostplugins" / "__init__.py").write_text("# InvenTree plugin directory\n")
        for project, package, _slug in PLUGINS:
            shutil.copytree(
                PLUGINS_DIR / project / package,
                plugins / package,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        (self.data / "plugins.txt").write_text("")
        (self.data / "secret_key.txt").write_text(os.urandom(32).hex())
        config = {
            "database": {
                "ENGINE": "sqlite3",
                "NAME": str(self.data / "db.sqlite3"),
                # A busy wait instead of "database is locked" under 4 workers x 4 threads,
                # and write transactions that take SQLite's lock when they begin, so that a
                # read-modify-write inside transaction.atomic() is serialised.
                "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
            }
        }
        (self.data / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
        self.timings["copy"] = time.monotonic() - t0
        t0 = time.monotonic()
        self._migrate()
        self.timings["migrate"] = time.monotonic() - t0
        t0 = time.monotonic()
        if self.static:
            # The plugins' static files (their panel JavaScript) into STATIC_ROOT, where
            # WhiteNoise serves them from: before gunicorn starts, since it indexes them then.
            self.manage("collectplugins")
            self.timings["collectplugins"] = time.monotonic() - t0
        web = os.environ.get("INVENTREE_WEB_BUILD")
        if web:
            # InvenTree's web UI, built by build_frontend.sh (the opt-in browser test).
            t0 = time.monotonic()
            shutil.copytree(web, self.backend / "InvenTree" / "web" / "static" / "web")
            self.manage("collectstatic", "--noinput")
            self.timings["collectstatic"] = time.monotonic() - t0

    def _migrate(self) -> None:
        template = cache_dir() / f"db-{_migrations_key(self.backend)}.sqlite3"
        db = self.data / "db.sqlite3"
        if template.exists():
            shutil.copy(template, db)
            self.timings["migrate_cached"] = 1
            return
        self.manage("migrate", "--noinput", timeout=900)
        tmp = template.with_suffix(f".tmp{os.getpid()}")
        shutil.copy(db, tmp)
        tmp.replace(template)

    def env(self) -> dict[str, str]:
        d = self.data
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTREE_")}
        env.update(
            {
                "INVENTREE_CONFIG_FILE": str(d / "config.yaml"),
                "INVENTREE_MEDIA_ROOT": str(d / "media"),
                "INVENTREE_STATIC_ROOT": str(d / "static"),
                "INVENTREE_BACKUP_DIR": str(d / "backup"),
                "INVENTREE_SECRET_KEY_FILE": str(d / "secret_key.txt"),
                "INVENTREE_SITE_URL": self.url,
                "INVENTREE_PLUGINS_ENABLED": "True",
                "INVENTREE_PLUGIN_DIR": str(d / "plugins" / "hostplugins"),
                "INVENTREE_PLUGIN_FILE": str(d / "plugins.txt"),
                # Active in every process from the start (see the module's doc).
                "INVENTREE_PLUGINS_MANDATORY": ",".join(
                    [slug for _, _, slug in PLUGINS] if self.mandatory is None else self.mandatory
                ),
                "INVENTREE_DEBUG": "False",
                "INVENTREE_LOG_LEVEL": "WARNING",
                "INVENTREE_ADMIN_USER": ADMIN[0],
                "INVENTREE_ADMIN_EMAIL": "admin@example.com",
                "INVENTREE_ADMIN_PASSWORD": ADMIN[1],
                "INVENTREE_GLOBAL_SETTINGS": json.dumps(
                    {"ENABLE_PLUGINS_URL": True, "ENABLE_PLUGINS_INTERFACE": True}
                ),
                "INVENTREE_GUNICORN_WORKERS": str(self.workers),
                "INVENTREE_GUNICORN_TIMEOUT": "60",
            }
        )
        env.update(self.extra_env)
        if self.redis is not None:
            env["INVENTREE_CACHE_ENABLED"] = "True"
            env["INVENTREE_CACHE_HOST"] = "127.0.0.1"
            env["INVENTREE_CACHE_PORT"] = str(self.redis.port)
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.backend / "InvenTree",
            env=self.env(),
            timeout=timeout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout[-4000:]}")
        return out.stdout

    # -- gunicorn ----------------------------------------------------------------------------

    def start(self) -> None:
        """Starts gunicorn (4 workers, InvenTree's container configuration) and waits until
        every worker answers."""
        t0 = time.monotonic()
        logf = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(self.root / "gunicorn.conf.py"),
                "InvenTree.wsgi",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--worker-tmp-dir",
                str(self.data),
            ],
            cwd=self.backend / "InvenTree",
            env=self.env(),
            stdout=logf,
            stderr=logf,
            start_new_session=True,
        )
        logf.close()
        wait_for("InvenTree", self._answers, 180, self.proc, self.log)
        wait_for(
            "gunicorn workers",
            lambda: len(self.worker_pids()) == self.workers,
            60,
            self.proc,
            self.log,
        )
        self.timings.setdefault("start", time.monotonic() - t0)
        self.timings["last_start"] = time.monotonic() - t0

    def _answers(self) -> bool:
        r = requests.get(f"{self.url}/api/", timeout=5)
        return r.status_code == 200

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's child processes."""
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def stop(self) -> None:
        """Stops gunicorn and its workers (the whole process group)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        # Workers left behind by a master that died first.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None

    def restart(self) -> None:
        """A full restart: every process stopped, then started again on the same port."""
        self.stop()
        self.start()


def site(root: Path, redis: Optional[Redis]) -> Iterator[InvenTree]:
    """Prepares and starts an InvenTree in `root`; stops it afterwards."""
    inv = InvenTree(root, redis)
    try:
        inv.prepare()
        inv.start()
        yield inv
    finally:
        inv.stop()
