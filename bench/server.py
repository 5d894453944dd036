"""The app under test: a bench database (migrated and seeded) and granian serving it over WSGI on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the bench only ever sends traffic to this machine's loopback

# Called directly when the `seed` command is not there: the demo data of each app in layer order.
FALLBACK_SEED = """
import random
import django
django.setup()
from forecourt.catalog import selectors
if not list(selectors.models_for_home()):
    from forecourt.dealers import demo_data as dealers_demo
    from forecourt.catalog import demo_data as catalog_demo
    dealers_demo.seed(rng=random.Random(2))
    catalog_demo.seed(rng=random.Random(2))
"""


class BenchSetupError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def bench_environment(var_dir: Path) -> dict[str, str]:
    """The server's environment: production settings, development keys, a private var dir, quiet logs."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "forecourt.config.settings",
            "FORECOURT_VAR_DIR": str(var_dir),
            "FORECOURT_ALLOW_DEV_KEYS": "1",
            "FORECOURT_LOG_LEVEL": "WARNING",
            "DJANGO_DEBUG": "0",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_DIR / "src"), env.get("PYTHONPATH", "")])),
        }
    )
    # Demo mode changes what pages show; the bench measures the app as it is deployed.
    env.pop("FORECOURT_DEMO", None)
    return env


def _manage(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def prepare_database(env: dict[str, str], *, timeout: float = 60.0) -> str:
    """Migrate and seed the bench database; returns how it was seeded (or why it could not be)."""
    started = time.monotonic()
    for args in (("migrate", "--noinput"), ("createcachetable",)):
        result = _manage(env, *args, timeout=timeout)
        if result.returncode != 0:
            raise BenchSetupError(f"`manage.py {' '.join(args)}` failed:\n{result.stderr[-2000:]}")
    remaining = max(10.0, timeout - (time.monotonic() - started))
    seeded = _manage(env, "seed", timeout=remaining)
    if seeded.returncode == 0:
        return "forecourt seed"
    if "Unknown command" not in seeded.stderr:
        return f"NOT SEEDED (`seed` failed: {_last_line(seeded.stderr)})"
    fallback = subprocess.run(
        [sys.executable, "-c", FALLBACK_SEED],
        env=env,
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=remaining,
        check=False,
    )
    if fallback.returncode != 0:
        return f"NOT SEEDED (no seed command; demo_data failed: {_last_line(fallback.stderr)})"
    return "demo_data.seed (no seed command)"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Server:
    """granian with the WSGI interface, started in its own process group and stopped by that group's id."""

    def __init__(self, *, env: dict[str, str], port: int, workers: int, log_path: Path) -> None:
        self.env = env
        self.port = port
        self.workers = workers
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "granian",
            "--interface", "wsgi",
            "--host", HOST,
            "--port", str(self.port),
            "--workers", str(self.workers),
            # As `forecourt serve` runs it (WEB_THREADS): a bounded pool of threads, each with its connection.
            "--blocking-threads", os.environ.get("WEB_THREADS", "8"),
            "--no-ws",
            "--log-level", "warning",
            "forecourt.config.wsgi:application",
        ]  # fmt: skip

    def start(self, *, ready_timeout: float = 30.0) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=REPO_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchSetupError(f"granian exited with {self.process.returncode}; see {self.log_path}")
            try:
                if self.request("GET", "/healthz", timeout=1.0).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchSetupError(
            f"granian did not answer /healthz within {ready_timeout:.0f} s; see {self.log_path}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # start_new_session made granian the leader of its own group: this reaches its workers, nothing else.
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> Response:
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Response(answer.status, answer.read(), dict(answer.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read(), dict(error.headers))

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
