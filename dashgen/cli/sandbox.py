"""``dashgen sandbox``: a local, in-memory Grafana emulator to try plan, push, drift and prune."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError

SANDBOX_HELP = """Serve a local, in-memory Grafana emulator to try plan and push against.

\b
It answers Grafana's HTTP API as dashgen uses it (the legacy /api, the alerting
provisioning API, and on 12.x/13.x the App Platform) as strictly as the tests'
Grafana does, on 127.0.0.1 only. It stores and validates; it never runs a query or
evaluates an alert rule, and everything is forgotten when it stops (Ctrl-C).
What it does not model: docs/sandbox.md.

\b
Examples:
  dashgen sandbox                                   # Grafana 11.6 on 127.0.0.1:3000
  dashgen sandbox --grafana-version 12.2 --toggle grafanaManagedRecordingRules
  dashgen sandbox --port 0 --env-file sandbox.env   # CI: any free port, URL and token in a file
Then, in another shell, export the two variables it prints and run dashgen plan, push,
push --prune; edit a dashboard through its API to see drift refused.
"""


@click.command("sandbox", help=SANDBOX_HELP)
@click.option("--grafana-version", "version", default="11.6", show_default=True, metavar="X.Y",
              help="The Grafana it behaves as: 11.6, 12.x or 13.x.")
@click.option("--toggle", "toggles", multiple=True, metavar="NAME",
              help="A feature toggle to turn on (repeatable), e.g. grafanaManagedRecordingRules, tempoAlerting. "
                   "Every other toggle is off, as on a stock instance.")
@click.option("--port", type=click.IntRange(0, 65535), default=3000, show_default=True,
              help="The port on 127.0.0.1; 0 picks a free one.")
@click.option("--datasource", "datasources", multiple=True, metavar="NAME=TYPE",
              help="A datasource beside the stock Prometheus and Tempo (TYPE prometheus or tempo), for a "
                   "catalog whose grafana.datasources name others; repeatable.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write GRAFANA_URL=... and GRAFANA_TOKEN=... lines to this file once it listens.")
def sandbox_command(version, toggles, port, datasources, env_file):
    from ..sandbox import serve

    signals = serve.StopSignals()
    try:
        sandbox = serve.start(serve.grafana_version(version), list(toggles), port,
                              [serve.datasource(d) for d in datasources])
    except serve.SandboxInputError as exc:
        raise InputError(str(exc)) from None
    emu = sandbox.emulator
    on = ", ".join(sorted(toggles)) or "none (a stock instance)"
    names = ", ".join(f"{ds['name']} ({ds['type']})" for ds in emu.datasources.values())
    click.echo(f"dashgen sandbox: Grafana {emu.grafana_version} emulator at {sandbox.url} (in memory; "
               f"Ctrl-C stops it and forgets everything)")
    click.echo(f"  feature toggles on: {on}")
    click.echo(f"  datasources: {names}")
    click.echo("In another shell:")
    click.echo(f"  export {' '.join(sandbox.env_lines())}")
    click.echo("  dashgen plan && dashgen push")
    if env_file is not None:
        serve.write_env_file(env_file, sandbox)
    import sys

    sys.stdout.flush()
    signals.wait(sandbox, lambda: click.echo("dashgen sandbox: stopped", err=True))
    return 0
