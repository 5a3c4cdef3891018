"""The catalog parser may use libyaml for speed: it must see exactly what pyyaml's own parser sees."""

from __future__ import annotations

import pytest
import yaml

from dashgen.catalog import PRESETS, preset_path
from dashgen.catalog.yamlspec import _compose


def flatten(node, out):
    if isinstance(node, yaml.MappingNode):
        out.append(("map", node.tag, node.start_mark.line, node.start_mark.column))
        for k, v in node.value:
            flatten(k, out)
            flatten(v, out)
    elif isinstance(node, yaml.SequenceNode):
        out.append(("seq", node.tag, node.start_mark.line, node.start_mark.column))
        for v in node.value:
            flatten(v, out)
    else:
        out.append(("scalar", node.tag, node.value, node.start_mark.line, node.start_mark.column))
    return out


TRICKY = [
    "a: &x {b: 1, c: [2, 3]}\nd: *x\n",
    "text: >-\n  folded\n  lines\nlit: |\n  kept\n  lines\n",
    "u: \"caf\\u00e9 — ü\"\nn: ~\nf: 1.5e3\nb: yes\ni: 0x1f\n",
    "- {k: v}\n- [1, 2]\n-   nested:\n      deep: true\n",
]


@pytest.mark.parametrize("text", [preset_path(p).read_text(encoding="utf-8") for p in PRESETS] + TRICKY)
def test_fast_and_pure_python_parsers_agree_on_nodes_and_marks(text):
    assert getattr(yaml, "CSafeLoader", None) is not None, "pyyaml without libyaml: the fast path is not tested"
    assert flatten(_compose(text), []) == flatten(yaml.compose(text, Loader=yaml.SafeLoader), [])
