"""Everything a command needs is installed with dashgen or named in one line (issue 12, point 3).

A missing optional package gives exit 2 and the same one-line wording in every command; the
import is hidden from a real ``dashgen`` process (a meta-path finder that refuses the module),
as on a machine where it was never installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from conftest import REPO

HIDE = """
import sys
import tomllib
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {hidden!r}:
            raise ImportError(f'No module named {{name!r}} (hidden by the test)')
sys.meta_path.insert(0, _Hide())
from dashgen.cli import main
main()
"""


def dashgen_without(hidden: set[str], *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE.format(hidden=hidden), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=os.environ)


PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def install_line(stderr: str, prefix: str) -> set[str]:
    """The requirements a one-line message names after ``prefix`` ('a>=1' 'b>=2' -> {a>=1, b>=2})."""
    assert stderr.startswith(prefix) and stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    args = stderr[len(prefix):-1].split(" ")
    assert all(a.startswith("'") and a.endswith("'") for a in args), args
    return {a.strip("'") for a in args}


@pytest.mark.parametrize("command, extra, module", [
    (["preview"], "preview", "matplotlib"),
    (["simulate", "--out", "t.json"], "otel", "opentelemetry"),
    (["simulate", "--otlp-endpoint", "http://127.0.0.1:9"], "otel", "opentelemetry"),
])
def test_a_missing_extra_is_exit_2_and_one_install_line(tmp_path, command, extra, module):
    r = dashgen_without({module}, *command, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    prefix = f"dashgen: error: dashgen {command[0]} needs {module} (the '{extra}' extra), which is not installed: pip install "
    assert install_line(r.stderr, prefix) == set(PROJECT["optional-dependencies"][extra])
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


def test_lint_schemas_names_jsonschema_when_a_no_deps_install_lacks_it(tmp_path):
    (tmp_path / "schemas").mkdir()
    r = dashgen_without({"jsonschema"}, "lint", "--schemas", str(tmp_path / "schemas"))
    assert r.returncode == 2, r.stderr
    prefix = "dashgen: error: dashgen lint --schemas needs jsonschema, which is not installed: pip install "
    assert install_line(r.stderr, prefix) == {d for d in PROJECT["dependencies"] if d.startswith("jsonschema")}


def test_jsonschema_is_a_base_requirement():
    """`dashgen lint --schemas` works after a plain `pip install .` (test_wheel runs it there)."""
    assert any(d.startswith("jsonschema>=") for d in PROJECT["dependencies"])
    assert not any(d.startswith("jsonschema") for d in PROJECT["optional-dependencies"]["test"])


def test_simulate_out_must_end_in_json(tmp_path):
    r = subprocess.run([sys.executable, "-c", "from dashgen.cli import main; main()", "simulate", "-c", "default", "--out", "t5"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr == ("dashgen: error: --out t5: the file name must end in .json (OTLP JSON; e.g. t5.json)\n")
    assert list(tmp_path.iterdir()) == []
    r = subprocess.run([sys.executable, "-c", "from dashgen.cli import main; main()", "simulate", "-c", "default", "--out", "t5.JSON",
                        "--sessions", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["t5.JSON"]


def test_install_line_from_a_source_tree_without_metadata(monkeypatch):
    """Run from a checkout on PYTHONPATH (no dashgen metadata): name the checkout's extra."""
    import importlib.metadata

    from dashgen.cli.common import require
    from dashgen.errors import InputError

    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "requires", absent)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(InputError) as err:
        require("preview", "matplotlib", extra="preview")
    assert err.value.exit_code == 2
    assert err.value.message == ("dashgen preview needs matplotlib (the 'preview' extra), which is not installed: "
                                 "pip install -e '.[preview]' (in the dashgen checkout)")
