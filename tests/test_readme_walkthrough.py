"""The README's five-minute walk-through, run as written (issue 12).

Every ```sh block between the walkthrough markers runs in bash, in order, in one working
directory that carries over (``cd`` and ``export`` persist, as in the reader's terminal);
the ```text block right after it is what the block must print (stdout and stderr, as a
terminal shows them); a ```diff block is an edit of my.yaml, applied hunk by hunk. It runs
in a fresh venv holding only the wheel and its declared dependencies (tests/installed.py),
against the Grafana emulator of dashgen/sandbox/ standing in for the Grafana at http://localhost:3000.

Run-dependent details are masked on both sides before comparing: durations, the commit id
``git`` gives, the emulator's address. Push progress lines (``[3/12] create ...``, a bar on
a terminal) are left out, as the README says. Regenerate the shown outputs after a change
with::

    python tests/test_readme_walkthrough.py --write
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO
from dashgen.sandbox.emulator import GrafanaEmulator
from installed import installed_dashgen

README = REPO / "README.md"
START, END = "<!-- walkthrough:start -->", "<!-- walkthrough:end -->"
SHOWN_URL = "http://localhost:3000"
SHOWN_TOKEN = "glsa_your_service_account_token"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
PROGRESS = re.compile(r"^\[\d+/\d+\] .*\n", re.M)
MASKS = [(re.compile(r"\b\d+(\.\d+)?s\b"), "<duration>"), (re.compile(r"\(([0-9a-f]{7,40})\)"), "(<commit>)")]


@dataclass
class Block:
    lang: str
    body: str
    start: int  # offsets of the body in the README
    end: int


def blocks(readme: str) -> list[Block]:
    base = readme.index(START)
    section = readme[base:readme.index(END)]
    return [Block(m.group(1), m.group(2), base + m.start(2), base + m.end(2)) for m in FENCE.finditer(section)]


def apply_diff(path: Path, diff: str) -> None:
    """Apply a README diff block: hunks after ``@@`` lines; ' ' context, '-' old, '+' new lines."""
    text = path.read_text(encoding="utf-8")
    for hunk in re.split(r"^@@.*\n", diff, flags=re.M):
        if not hunk.strip():
            continue
        lines = hunk.splitlines(keepends=True)
        old = "".join(ln[1:] for ln in lines if ln[0] in " -")
        new = "".join(ln[1:] for ln in lines if ln[0] in " +")
        assert text.count(old) == 1, f"{path.name} no longer has exactly one:\n{old}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def mask(text: str) -> str:
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


def run_walkthrough(readme: str, env: dict[str, str], workdir: Path) -> list[tuple[Block, Block | None, str]]:
    """Run every sh block; returns (sh block, the text block after it or None, its output)."""
    emu = GrafanaEmulator().start()
    try:
        state = workdir / "state"
        state.mkdir()
        (workdir / "checkout").mkdir()
        (state / "cwd").write_text(str(workdir / "checkout"))
        (state / "env").write_text("")
        git = workdir / "gitconfig"
        git.write_text("[user]\n\tname = Reader\n\temail = reader@example.com\n[init]\n\tdefaultBranch = main\n")
        env = {**env, "GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token, "GIT_CONFIG_GLOBAL": str(git),
               "GIT_CONFIG_NOSYSTEM": "1", "COLUMNS": "100"}
        found = blocks(readme)
        results = []
        for i, block in enumerate(found):
            if block.lang == "diff":
                apply_diff(Path((state / "cwd").read_text().strip()) / "my.yaml", block.body)
                continue
            if block.lang != "sh":
                continue
            script = block.body.replace(SHOWN_URL, emu.url).replace(SHOWN_TOKEN, emu.token)
            proc = subprocess.run(
                ["bash", "-c", f'set -eo pipefail; . "{state}/env"; cd "$(cat "{state}/cwd")"\n{script}\n'
                               f'pwd > "{state}/cwd"; export -p > "{state}/env"'],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                timeout=300)
            output = PROGRESS.sub("", proc.stdout).replace(emu.url, SHOWN_URL)
            assert proc.returncode == 0, f"README block failed (exit {proc.returncode}):\n{block.body}\n{output}"
            nxt = found[i + 1] if i + 1 < len(found) else None
            adjacent = nxt is not None and re.fullmatch(r"```\n\s*```text\n", readme[block.end:nxt.start])
            shown = nxt if adjacent else None
            results.append((block, shown, output))
        return results
    finally:
        emu.stop()


def test_readme_walkthrough_runs_as_written(tmp_path_factory, tmp_path):
    installed = installed_dashgen(tmp_path_factory)
    readme = README.read_text(encoding="utf-8")
    results = run_walkthrough(readme, installed.env(), tmp_path)
    assert len(results) >= 7
    for block, shown, output in results:
        expected = shown.body if shown else ""
        assert mask(output) == mask(expected), f"README output of\n{block.body}\nis stale; run " \
                                               f"python tests/test_readme_walkthrough.py --write"


def test_every_walkthrough_step_is_there():
    section = README.read_text(encoding="utf-8").split(START)[1].split(END)[0]
    commands = [b.body for b in blocks(README.read_text(encoding="utf-8")) if b.lang == "sh"]
    for step in ("dashgen catalog show > my.yaml", "dashgen init --catalog my.yaml", "dashgen build\n",
                 "dashgen diff\n", "dashgen plan\n", "dashgen push\n"):
        assert any(step in c for c in commands), step
    # after `dashgen init`, the project file names the catalog: no command repeats it
    assert not any(" -c " in c or "--catalog" in c.replace("init --catalog", "") for c in commands)
    assert ".gitignore" in section and "```diff" in section


def write(readme_path: Path = README) -> None:
    """Replace each shown output with what the commands print now (dashgen from PATH)."""
    import tempfile

    readme = readme_path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        results = run_walkthrough(readme, dict(os.environ), Path(tmp))
    for block, shown, output in reversed(results):
        if shown is None:
            assert not output, f"block prints output but has no ```text block after it:\n{block.body}"
            continue
        readme = readme[:shown.start] + output + readme[shown.end:]
    readme_path.write_text(readme, encoding="utf-8")
    print(f"wrote {len(results)} outputs into {readme_path}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_readme_walkthrough.py --write")
    write()
