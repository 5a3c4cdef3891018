"""The example GitHub workflow and the pre-commit hook call dashgen with options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from dashgen.cli import cli

REPO = Path(__file__).resolve().parent.parent


def dashgen_commands(script: str) -> list[list[str]]:
    out = []
    for line in script.splitlines():
        line = line.strip()
        if line.startswith("dashgen "):
            line = re.sub(r'"?\$\{?\w+\}?', "X", line)  # shell variables: any value
            out.append(shlex.split(line)[1:])
    return out


def parse(args: list[str]) -> click.Context:
    """Parse ``dashgen ARGS`` with the real command line, without running it (bad options raise)."""
    ctx = cli.make_context("dashgen", list(args), resilient_parsing=False)
    name = args[0]
    command = cli.get_command(ctx, name)
    assert command is not None, f"no such command: dashgen {name}"
    return command.make_context(name, list(args[1:]), parent=ctx)


def test_workflow_reviews_pull_requests_and_pushes_main():
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "dashboards.yml").read_text())
    on = wf.get("on", wf.get(True))
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    review, push = wf["jobs"]["review"], wf["jobs"]["push"]
    assert "pull_request" in review["if"] and "refs/heads/main" in push["if"]
    assert review["permissions"]["pull-requests"] == "write"
    runs = lambda job: "\n".join(s.get("run", "") for s in job["steps"])  # noqa: E731
    review_cmds = dashgen_commands(runs(review))
    assert [c[:2] for c in review_cmds] == [["build", "--check"], ["lint"], ["diff", "--base"], ["preview", "--out"]]
    diff = next(c for c in review_cmds if c[0] == "diff")
    assert diff[diff.index("--format") + 1] == "markdown"
    assert "gh pr comment" in runs(review)
    assert any(s.get("uses", "").startswith("actions/upload-artifact") and s["with"]["path"] == "previews/"
               for s in review["steps"])
    push_cmds = dashgen_commands(runs(push))
    assert [c[0] for c in push_cmds] == ["build", "push"]
    push_env = next(s["env"] for s in push["steps"] if "dashgen push" in s.get("run", ""))
    assert push_env == {"GRAFANA_URL": "${{ secrets.GRAFANA_URL }}", "GRAFANA_TOKEN": "${{ secrets.GRAFANA_TOKEN }}"}
    for args in review_cmds + push_cmds:
        parse(args)


def test_pre_commit_hook_runs_build_check():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "dashgen-build-check"
    assert hook["entry"] == "dashgen build --check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    parse(shlex.split(hook["entry"])[1:])


def test_parse_rejects_unknown_options():
    try:
        parse(["diff", "--no-such-option"])
    except click.NoSuchOption:
        return
    raise AssertionError("an unknown option was accepted")
