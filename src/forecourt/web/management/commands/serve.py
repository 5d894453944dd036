"""Serve the site with granian over WSGI (measured ≈2× gunicorn and ≈10× Django's ASGI path here)."""

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

WSGI_TARGET = "forecourt.config.wsgi:application"
SRC_DIR = Path(__file__).resolve().parents[4]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise CommandError(f"{name} must be a whole number, got {raw!r}") from None


def server_address() -> tuple[str, int]:
    """HOST and PORT from the environment (127.0.0.1:8000 by default)."""
    port = _env_int("PORT", 8000)
    if not 0 < port < 65536:
        raise CommandError(f"PORT must be between 1 and 65535, got {port}")
    return os.environ.get("HOST") or "127.0.0.1", port


def granian_command() -> list[str]:
    """The granian command line: the granian beside this Python, WEB_WORKERS processes of WEB_THREADS."""
    host, port = server_address()
    workers = _env_int("WEB_WORKERS", 2)
    if workers < 1:
        raise CommandError(f"WEB_WORKERS must be at least 1, got {workers}")
    # Each thread keeps its own database connection: a bounded pool keeps a rush from exhausting the
    # database's connection slots, and a few threads per process is all the GIL lets run at once.
    threads = _env_int("WEB_THREADS", 8)
    if threads < 1:
        raise CommandError(f"WEB_THREADS must be at least 1, got {threads}")
    beside_python = Path(sys.executable).parent / "granian"
    if beside_python.exists():
        executable = [str(beside_python)]
    elif found := shutil.which("granian"):
        executable = [found]
    else:
        executable = [sys.executable, "-m", "granian"]
    return [
        *executable,
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--respawn-failed-workers",
        WSGI_TARGET,
    ]  # fmt: skip


def server_environment() -> dict[str, str]:
    """The environment for granian's workers: this settings module, and `src` importable from any cwd."""
    environment = dict(os.environ)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "forecourt.config.settings")
    paths = [str(SRC_DIR), *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return environment


class Command(BaseCommand):
    help = "Serve with granian (WSGI) on HOST:PORT (127.0.0.1:8000) with WEB_WORKERS processes (2)."

    def handle(self, *args: Any, **options: Any) -> None:
        command = granian_command()
        host, port = server_address()
        self.stdout.write(f"Serving on http://{host}:{port}/ (granian, WSGI)")
        self.stdout.flush()
        # Replace this process, so signals from a supervisor reach granian directly.
        os.execvpe(command[0], command, server_environment())
