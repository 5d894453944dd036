"""`forecourt demo`: everything a person trying Forecourt needs, in one command."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from forecourt.web.management.commands.seed import database_has_demo_data, demo_data_module
from forecourt.web.management.commands.serve import granian_command, server_address, server_environment

PACKAGE_DIR = Path(__file__).resolve().parents[3]


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, username or phone, password or hint) from every app's `demo_data.DEMO_LOGINS`."""
    logins: list[tuple[str, str, str]] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("forecourt."):
            continue
        module = demo_data_module(config.label)
        for entry in getattr(module, "DEMO_LOGINS", None) or []:
            if isinstance(entry, (tuple, list)) and len(entry) == 3:
                logins.append((str(entry[0]), str(entry[1]), str(entry[2])))
    return logins


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """Ask a child (and its own children) to stop, then kill its whole process group if it lingers."""
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    # granian's web workers are children of its main process: take the group down with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _compile_stale_catalogues() -> None:
    """`make setup` compiles the catalogues; this covers `forecourt demo` run on its own."""
    stale = [
        po
        for po in PACKAGE_DIR.glob("*/locale/*/LC_MESSAGES/*.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale or not shutil.which("msgfmt"):
        return
    # compilemessages walks the working directory: point it at our package, not .venv or node_modules.
    previous = Path.cwd()
    os.chdir(PACKAGE_DIR)
    try:
        call_command("compilemessages", verbosity=0)
    finally:
        os.chdir(previous)


class _Stopped(Exception):
    pass


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


class Command(BaseCommand):
    help = "Prepare the database, load demo data if empty, print the demo logins, serve with a worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the database and print the logins, then exit."
        )

    def handle(self, *args: Any, no_serve: bool, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("The demo runs in demo mode: use `forecourt demo` (or set FORECOURT_DEMO=1).")
        host, port = server_address()
        if not no_serve and not _port_is_free(host, port):
            raise CommandError(
                f"Port {port} on {host} is in use: stop what uses it, or set PORT=<another port>."
            )
        self._prepare()
        self._print_welcome(host, port)
        if not no_serve:
            self._serve()

    def _prepare(self) -> None:
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        _compile_stale_catalogues()
        if database_has_demo_data():
            self.stdout.write("Demo data already loaded (`forecourt seed --reset` starts over).")
        else:
            self.stdout.write("Loading the demo data…")
            call_command("seed", stdout=self.stdout)

    def _print_welcome(self, host: str, port: int) -> None:
        url = f"http://{host}:{port}/"
        self.stdout.write("")
        logins = demo_logins()
        if logins:
            self.stdout.write(self.style.MIGRATE_HEADING("Demo logins"))
            widths = [max(len(row[column]) for row in logins) for column in range(3)]
            for role, who, secret in logins:
                self.stdout.write(f"  {role:<{widths[0]}}  {who:<{widths[1]}}  {secret}")
            self.stdout.write(f"  SMS codes for phone sign-in: {url}demo/outbox (or `forecourt outbox`)")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Forecourt demo: open {url}") + "  (Ctrl-C stops it)")
        self.stdout.flush()

    def _serve(self) -> None:
        """Run granian and a task worker side by side; when either stops (or we are told to), stop both."""
        environment = server_environment()
        worker_command = [sys.executable, "-m", "forecourt.cli", "worker"]
        previous_handler = signal.signal(signal.SIGTERM, _raise_stopped)
        # Explicitly, since a process started in the background inherits SIGINT ignored.
        previous_interrupt = signal.signal(signal.SIGINT, _raise_stopped)
        worker: subprocess.Popen[bytes] | None = None
        server: subprocess.Popen[bytes] | None = None
        try:
            # Each child leads its own process group, so stopping one also stops whatever it spawned;
            # Ctrl-C reaches only this process, which then stops both children in order.
            worker = subprocess.Popen(worker_command, env=environment, process_group=0)
            server = subprocess.Popen(granian_command(), env=environment, process_group=0)
            restarts_left = 3
            while server.poll() is None:
                if worker.poll() is not None and restarts_left:
                    restarts_left -= 1
                    self.stderr.write(f"The task worker stopped (exit {worker.returncode}); restarting it.")
                    worker = subprocess.Popen(worker_command, env=environment, process_group=0)
                time.sleep(0.5)
            failed = server.returncode != 0
        except (KeyboardInterrupt, _Stopped):
            failed = False
            self.stdout.write("Stopping…")
        finally:
            # A second Ctrl-C or TERM (uv and make pass signals on too) must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _stop(server)
            _stop(worker)
            signal.signal(signal.SIGINT, previous_interrupt)
            signal.signal(signal.SIGTERM, previous_handler)
        if failed and server is not None:
            raise CommandError(f"The web server stopped with exit code {server.returncode}.")
