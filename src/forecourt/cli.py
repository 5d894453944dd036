"""The `forecourt` command: Forecourt's own commands first, then every manage.py command."""

from __future__ import annotations

import os
import sys

SETTINGS_MODULE = "forecourt.config.settings"

USAGE = """\
usage: forecourt <command> [options]

Forecourt commands:
  demo      prepare the database, load demo data if it is empty, print the demo logins and serve
            the site with a background worker (demo mode: SMS outbox readable at /demo/outbox)
  serve     serve the site with granian (WSGI) on HOST:PORT (127.0.0.1:8000), WEB_WORKERS processes
  worker    run the background task worker (event delivery to subscribers, retries)
  seed      load the demo data into an empty database (--reset empties it first)
  outbox    print the local SMS outbox (the messages the default sender would have sent)

Every manage.py command works too (migrate, createsuperuser, shell, ...): `forecourt help` lists them.
`forecourt <command> --help` explains one command.
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `forecourt` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE, end="")
        return 0
    if args[0] == "demo":
        # Before Django reads the settings: demo mode exposes the outbox and allows generated keys.
        os.environ["FORECOURT_DEMO"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)

    from django.core.management import execute_from_command_line

    from forecourt.config.env import ConfigurationError

    try:
        execute_from_command_line(["forecourt", *args])
    except ConfigurationError as error:
        print(f"forecourt: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
