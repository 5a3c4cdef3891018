"""The ``dashgen`` command line: a click group; each command delegates to one module."""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import DashgenError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="dashgen")
def cli() -> None:
    """dashgen turns a voice agent's stage catalog into Grafana dashboards and alert rules.

    \b
    Typical flow:
      dashgen build            write dashboards/ and alerts/ from the bundled catalog
      dashgen build --check    CI: fail (exit 1) when the committed output is stale
      dashgen lint             offline checks (uids, ids, layout, TraceQL rules)
      dashgen plan / push      diff against a live Grafana, then apply

    \b
    Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 drift or conflict refused.
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: turns DashgenError into one line on stderr and an exit code."""
    try:
        rv = cli.main(args=argv, prog_name="dashgen", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("dashgen: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DashgenError as exc:
        click.echo(f"dashgen: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    # Commands return their exit code (an int) or None for success.
    sys.exit(rv if isinstance(rv, int) else 0)
