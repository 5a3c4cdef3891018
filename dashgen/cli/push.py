"""``dashgen plan`` and ``dashgen push``: diff against a live Grafana, then apply."""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from .common import catalog_option, definitions_option, schema_version_option
from ..errors import ConflictError, DashgenError, InputError
from ..grafana.client import GrafanaClient, GrafanaError

CONNECTION_HELP = """
\b
Connection (flags override the environment):
  GRAFANA_URL                   --url          e.g. https://grafana.example.com
  GRAFANA_TOKEN                 --token-file   a service-account token (glsa_...)
  GRAFANA_USER/GRAFANA_PASSWORD                basic auth instead of a token
  GRAFANA_ORG_ID                --org-id       the organisation (X-Grafana-Org-Id)
The token is never printed, logged or written to a backup. Credentials are only sent
over https, or plain http to a loopback address (--allow-insecure-http overrides).

\b
Exit codes: 0 done or nothing to do, 1 failure (partial failures included),
2 bad usage or input, 3 drift or conflict refused.
"""


def _common(f):
    opts = [
        catalog_option,
        schema_version_option,
        definitions_option,
        click.option("--from", "from_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Push an existing build output (a `dashgen build --out DIR` directory) instead of "
                          "building from the catalog."),
        click.option("--url", envvar="GRAFANA_URL", metavar="URL", help="Grafana base URL. Env: GRAFANA_URL."),
        click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Read the service-account token from this file (instead of GRAFANA_TOKEN)."),
        click.option("--org-id", type=int, envvar="GRAFANA_ORG_ID", help="Organisation id. Env: GRAFANA_ORG_ID."),
        click.option("--ca-cert", type=click.Path(dir_okay=False, exists=True),
                     help="PEM bundle of the CA that signed Grafana's certificate."),
        click.option("--insecure-skip-verify", is_flag=True, help="Do not verify TLS certificates (not recommended)."),
        click.option("--allow-insecure-http", is_flag=True,
                     help="Allow sending credentials over plain http to a non-loopback host."),
        click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
                     help="Parallel requests within each phase (reads, folders, dashboards, rule groups)."),
        click.option("--retries", type=click.IntRange(0, 20), default=5, show_default=True,
                     help="Retries on 429/502/503/504 and connection errors (exponential backoff, jitter)."),
        click.option("--retry-base-delay", type=click.FloatRange(0, 60), default=0.5, show_default=True,
                     envvar="DASHGEN_RETRY_BASE_DELAY", help="First backoff delay in seconds (doubles each retry)."),
        click.option("--timeout", type=click.FloatRange(0.1, 600), default=30.0, show_default=True,
                     help="Per-request timeout in seconds."),
        click.option("--prune", is_flag=True,
                     help="Also delete dashboards and alert rules dashgen owns that the build no longer produces."),
        click.option("--disable-provenance", is_flag=True,
                     help="Push alert rules without provenance, so they stay editable in the UI (default: 'api', locked)."),
        click.option("--quick", is_flag=True,
                     help="Do not re-read dashboards whose dashgen-hash tag in /api/search already matches the build "
                          "(fewer requests; a UI edit that kept the tags then goes unnoticed)."),
        click.option("--api", "api", type=click.Choice(["auto", "legacy", "apps"]), default="auto", show_default=True,
                     help="Dashboards and folders through the legacy /api endpoints or the App Platform (/apis); "
                          "auto: the App Platform where the instance serves dashboards there (Grafana 12+)."),
        click.option("--recording-rules", "recording_rules", type=click.Choice(["auto", "require"]), default="auto",
                     show_default=True,
                     help="Grafana-managed recording rules: auto pushes them where the instance's "
                          "grafanaManagedRecordingRules toggle is on and leaves them out otherwise (with a notice); "
                          "require refuses to push (exit 2) to an instance that cannot take them."),
        click.option("--output", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
                     help="json: one JSON document on stdout, for machines."),
        click.option("--verbose", "-v", is_flag=True, help="List unchanged resources too."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


@contextmanager
def _build_dir(from_dir: Path | None, catalog_ref: str | None, schema_version: str,
               definitions: tuple[str, ...] = ()) -> Iterator[Path]:
    if from_dir is not None:
        if not from_dir.is_dir():
            raise InputError(f"--from {from_dir}: no such directory")
        yield from_dir
        return
    from ..artifacts import write_output
    from ..build import build_artifacts
    from ..voice.checks import load_catalog
    from ..lint.gate import refuse_lint_problems

    catalog = load_catalog(catalog_ref)
    result = build_artifacts(catalog, int(schema_version), definitions)
    # what `dashgen build` would refuse is not pushed either (exit 2, before any request)
    refuse_lint_problems(result.artifacts, result.dashboards, catalog)
    with tempfile.TemporaryDirectory(prefix="dashgen-push-") as tmp:
        write_output(result.artifacts, Path(tmp))
        yield Path(tmp)


def _client(url, token_file, org_id, ca_cert, insecure_skip_verify, allow_insecure_http, retries,
            retry_base_delay, timeout, concurrency) -> GrafanaClient:
    if not url:
        raise InputError("no Grafana URL: set GRAFANA_URL or pass --url")
    token = None
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(f"--token-file {token_file}: {exc.strerror or 'cannot read it'}") from None
        if not token:
            raise InputError(f"--token-file {token_file}: the file is empty")
    else:
        token = os.environ.get("GRAFANA_TOKEN") or None
    user = os.environ.get("GRAFANA_USER") or None
    password = os.environ.get("GRAFANA_PASSWORD") or None
    if token:
        user = password = None  # a token wins over basic auth
    if not (token or user):
        raise InputError("no credentials: set GRAFANA_TOKEN (or --token-file), or GRAFANA_USER and GRAFANA_PASSWORD")
    return GrafanaClient(url, token=token, user=user, password=password, org_id=org_id, ca_cert=ca_cert,
                         insecure_skip_verify=insecure_skip_verify, allow_insecure_http=allow_insecure_http,
                         retries=retries, retry_base_delay=retry_base_delay, timeout=timeout, pool_size=concurrency)


def _run(*, apply_changes: bool, catalog_ref, schema_version, definitions=(), from_dir, url, token_file, org_id, ca_cert,
         insecure_skip_verify, allow_insecure_http, concurrency, retries, retry_base_delay, timeout, prune,
         disable_provenance, quick, output, verbose, api="auto", recording_rules="auto", force=False, backup_dir=".dashgen/backups") -> int:
    from ..grafana.apply import Applier, exit_code, save_message
    from ..grafana.plan import Options, load_build
    from ..grafana.report import Progress, format_table, plan_json, refusal_report
    from ..grafana.workflow import make_plan

    client = _client(url, token_file, org_id, ca_cert, insecure_skip_verify, allow_insecure_http, retries,
                     retry_base_delay, timeout, concurrency)
    start = time.monotonic()
    # the version-history message runs `git rev-parse` (~10 ms): overlap it with the reads
    side = ThreadPoolExecutor(1)
    message = side.submit(save_message) if apply_changes else None
    side.shutdown(wait=False)  # the submitted call runs on; .result() below waits for it
    with _build_dir(from_dir, catalog_ref, schema_version, definitions) as root:
        build = load_build(root)
        try:
            plan, handlers = make_plan(client, build, Options(prune=prune, force=force, quick=quick,
                                                              disable_provenance=disable_provenance, api=api,
                                                              orphans=not apply_changes,
                                                              recording_rules=recording_rules),
                                       concurrency=concurrency)
        except GrafanaError as exc:
            if exc.status in (401, 403):
                raise DashgenError(f"Grafana rejected the request: {exc.message}") from None
            raise DashgenError(f"reading the live state failed: {exc.message}") from None
    as_json = output == "json"
    for notice in plan.notices:
        click.echo(f"dashgen: note: {notice}", err=True)
    if plan.blocking:
        code = 3
        if as_json:
            click.echo(plan_json(plan, applied=False, exit_code=code, stats=dict(client.stats)))
        else:
            click.echo(format_table(plan, applied=False, verbose=verbose))
        report = refusal_report(plan).splitlines()[1:]
        click.echo("\n".join(report), err=True)
        n = len(plan.blocking)
        if apply_changes:
            raise ConflictError(f"refusing to push: {n} resource(s) drifted or not owned by dashgen (listed above); "
                                "nothing was written")
        click.echo(f"dashgen: a push would refuse: {n} resource(s) drifted or not owned by dashgen", err=True)
        return code
    if not apply_changes:
        if as_json:
            click.echo(plan_json(plan, applied=False, exit_code=0, stats=dict(client.stats)))
        else:
            click.echo(format_table(plan, applied=False, verbose=verbose))
        return 0
    progress = Progress(len(plan.writes))
    Applier(handlers, plan, concurrency=concurrency, disable_provenance=disable_provenance, backup_dir=backup_dir,
            progress=progress, message=message.result() if message else None).run()
    code = exit_code(plan)
    if as_json:
        click.echo(plan_json(plan, applied=True, exit_code=code, stats=dict(client.stats)))
    else:
        click.echo(format_table(plan, applied=True, verbose=verbose))
        click.echo(f"dashgen: {len(plan.writes)} write(s), {client.stats['requests']} request(s) "
                   f"({client.stats['retries']} retries) in {time.monotonic() - start:.1f}s to {client.base_url}",
                   err=True)
    if code == 1:
        click.echo("dashgen: error: the push failed for some resources (see OUTCOME above); "
                   "re-run it: completed writes are not repeated", err=True)
    elif code == 3:
        click.echo("dashgen: error: some resources changed in Grafana while pushing (HTTP 412); nothing was "
                   "overwritten; run `dashgen plan` again", err=True)
    return code


@click.command("plan", epilog=CONNECTION_HELP)
@_common
@click.option("--force", is_flag=True, help="Show what `push --force` would do with drifted or foreign resources.")
def plan_command(**kw) -> int:
    """Show what a push would do; write nothing.

    For every folder, dashboard and alert rule group: create, update, unchanged,
    drifted (changed in Grafana since dashgen pushed it), conflict (not dashgen's, or
    pushed with another provenance), or prune (with --prune: dashgen's, no longer built).
    Exits 3 when a push would refuse (drift or conflict), 0 otherwise.

    \b
    Examples:
      GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN=glsa_... dashgen plan
      dashgen plan --from build/ --prune --output json
      dashgen plan -c pipecat --url https://grafana.example.com --token-file ~/.grafana-token
    """
    return _run(apply_changes=False, **kw)


@click.command("push", epilog=CONNECTION_HELP)
@_common
@click.option("--dry-run", is_flag=True, help="Only plan (same as `dashgen plan`).")
@click.option("--force", is_flag=True,
              help="Overwrite drifted or foreign dashboards/rule groups, after saving the live JSON to --backup-dir.")
@click.option("--backup-dir", type=click.Path(file_okay=False), default=".dashgen/backups", show_default=True,
              help="Where --force saves the live JSON of what it overwrites or deletes.")
def push_command(dry_run: bool, **kw) -> int:
    """Build (or take --from DIR), then create/update folders, dashboards and alert rule groups.

    \b
    Order: preflight (version, feature toggles, datasources by name, App Platform
    discovery), folders, then dashboards and rule groups, then (with --prune) deletions.
    What the instance cannot take is decided before the first write (recording rules
    need the grafanaManagedRecordingRules toggle; Tempo rules Grafana 12.1+ with
    tempoAlerting). Only resources carrying dashgen's marker (tag 'dashgen' +
    'dashgen-hash:<hash>' on dashboards, plus the manager annotations on the App
    Platform; annotation 'dashgen_hash' on rules) are updated or deleted; another
    tool's managed dashboard is never taken over. A dashboard changed in Grafana since dashgen's last push,
    or a foreign one at the same uid, is refused (exit 3) unless --force. A second push
    right after a successful one writes nothing.

    \b
    Examples:
      GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN=glsa_... dashgen push
      dashgen push --from build/ --prune --concurrency 16
      dashgen push --dry-run --output json
      dashgen push --force --backup-dir backups/     # after reading the refusal report
    """
    if dry_run:
        kw.pop("backup_dir", None)
        return _run(apply_changes=False, **kw)
    return _run(apply_changes=True, **kw)
