"""The `forecourt` command and the platform's management commands (demo, serve, worker, seed)."""

import io
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from forecourt import cli
from forecourt.web.management.commands import demo, seed, serve, worker

REPO_DIR = Path(__file__).resolve().parent.parent


def _environment_without_settings() -> dict[str, str]:
    return {
        name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "FORECOURT_"))
    }


def test_forecourt_help_lists_the_commands(capsys):
    assert cli.main(["--help"]) == 0
    usage = capsys.readouterr().out
    for command in ("demo", "serve", "worker", "seed", "outbox"):
        assert f"\n  {command} " in usage


def test_a_configuration_error_is_a_message_not_a_traceback():
    environment = _environment_without_settings()
    result = subprocess.run(
        [sys.executable, "-m", "forecourt.cli", "check"],
        env={**environment, "FORECOURT_DEMO": "maybe"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "configuration error: FORECOURT_DEMO must be a boolean" in result.stderr
    assert "Traceback" not in result.stderr


def test_granian_serves_wsgi_on_the_configured_address(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "4")
    command = serve.granian_command()
    assert Path(command[0]).name == "granian" or command[1:3] == ["-m", "granian"]
    options = command[command.index("--interface") :]
    assert options == [
        "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8123", "--workers", "3",
        "--blocking-threads", "4", "--respawn-failed-workers", "forecourt.config.wsgi:application",
    ]  # fmt: skip


def test_the_default_address_is_loopback_port_8000_with_two_workers(monkeypatch):
    for name in ("HOST", "PORT", "WEB_WORKERS", "WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert serve.server_address() == ("127.0.0.1", 8000)
    command = serve.granian_command()
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--blocking-threads") + 1] == "8"


@pytest.mark.parametrize(
    ("name", "value"), [("PORT", "eighty"), ("PORT", "70000"), ("WEB_WORKERS", "0"), ("WEB_THREADS", "0")]
)
def test_a_bad_server_setting_is_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match=name):
        serve.granian_command()


def test_serve_replaces_itself_with_granian(monkeypatch):
    monkeypatch.setenv("PORT", "8124")
    calls = []
    monkeypatch.setattr(os, "execvpe", lambda file, args, env: calls.append((file, args, env)))
    call_command("serve", stdout=open(os.devnull, "w"))  # noqa: SIM115
    [(file, args, env)] = calls
    assert file == args[0]
    assert args[args.index("--port") + 1] == "8124"
    assert str(REPO_DIR / "src") in env["PYTHONPATH"].split(os.pathsep)


def test_the_demo_refuses_to_run_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("demo", "--no-serve")


def test_demo_logins_are_collected_from_every_app(monkeypatch):
    modules = {
        "accounts": types.SimpleNamespace(
            DEMO_LOGINS=[("Consumer", "13800138000", "code from /demo/outbox"), ("broken entry",)]
        ),
        "dealers": types.SimpleNamespace(DEMO_LOGINS=[("Sales advisor", "sales_sh", "demo-password-1")]),
    }
    monkeypatch.setattr(demo, "demo_data_module", lambda label: modules.get(label))
    assert sorted(demo.demo_logins()) == [
        ("Consumer", "13800138000", "code from /demo/outbox"),
        ("Sales advisor", "sales_sh", "demo-password-1"),
    ]


@pytest.mark.django_db
def test_seed_runs_each_apps_demo_data_in_layer_order_with_one_random_source(monkeypatch):
    calls = []

    def fake_module(label):
        return types.SimpleNamespace(seed=lambda *, rng: calls.append((label, rng)))

    monkeypatch.setattr(seed, "demo_data_module", fake_module)
    monkeypatch.setattr(seed, "database_has_demo_data", lambda: False)
    call_command("seed", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert [label for label, _rng in calls] == [
        "dealers",
        "catalog",
        "accounts",
        "leads",
        "appointments",
        "orders",
        "offers",
        "loyalty",
        "referrals",
    ]
    assert len({id(rng) for _label, rng in calls}) == 1


@pytest.mark.django_db
def test_seed_leaves_a_database_with_dealers_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(seed, "demo_data_module", lambda label: calls.append(label))
    monkeypatch.setattr(seed, "database_has_demo_data", lambda: True)
    call_command("seed", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert calls == []


def test_demo_prepares_a_fresh_database_and_the_worker_runs(tmp_path):
    """The journey of `make demo` up to serving, on a throwaway SQLite database, in a real process."""
    environment = _environment_without_settings()
    environment.pop("DATABASE_URL", None)  # never touch the database a developer points the suite at
    environment.update(FORECOURT_VAR_DIR=str(tmp_path), PORT="8799")

    def forecourt(*arguments):
        return subprocess.run(
            [sys.executable, "-m", "forecourt.cli", *arguments],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    prepared = forecourt("demo", "--no-serve")
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    assert "Forecourt demo: open http://127.0.0.1:8799/" in prepared.stdout
    assert (tmp_path / "forecourt.sqlite3").exists()
    again = forecourt("demo", "--no-serve")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Demo data already loaded" in again.stdout
    environment["FORECOURT_DEMO"] = "1"  # the worker `forecourt demo` starts runs in demo mode too
    worked = forecourt("worker", "--batch")
    assert worked.returncode == 0, worked.stdout + worked.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("command", worker.SWEEPS)
def test_every_sweeper_the_worker_runs_exists_and_runs_on_an_empty_database(command):
    output = io.StringIO()
    call_command(command, verbosity=1, stdout=output)
    assert output.getvalue().strip() != ""
