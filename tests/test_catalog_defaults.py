"""A key left out of a block takes the same default as the block left out (issue 22).

Before, ``alerting.nothing_rate`` left out meant ``for: 10m, severity: ticket`` while
``nothing_rate: {above: 0.1}`` meant ``for: 5m, severity: page``: a partial block flipped the
defaults of the keys it did not write. Every optional block of the catalog spec is checked
here: left out, written empty, or written with one key at its documented default, it builds
the same catalog.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest
import yaml

from conftest import DEFAULT_CATALOG
from dashgen.catalog import parse_catalog
from dashgen.catalog.docs import reference_table
from dashgen.catalog.spec import CATALOG_SPEC
from dashgen.catalog.yamlspec import Field, ListOf, Map

BASE = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
# Without its tempo block the catalog is for Tempo 2.6, which has no avg_over_time: the one
# average panel (the client's buffer depth) would be refused, so it is left out here.
for _m in (m for s in BASE["stages"] for m in s["measurements"] if "average" in m.get("panels", [])):
    _m["panels"] = [k for k in _m["panels"] if k != "average"]


# The item of each list whose blocks are edited: the second measurement (ASR total) writes no
# metric block of its own (the first shares its buckets with every first byte).
ITEM = {"stages": 0, "measurements": 1}


def _blocks(spec: Map, path: tuple = ()):
    """``(path, Field)`` of every optional mapping in the spec; list items are those of ``ITEM``."""
    for name, f in spec.fields.items():
        inner, key = f.spec, path + (name,)
        if isinstance(inner, ListOf):
            inner, key = inner.item, key + (ITEM.get(name, 0),)
        if isinstance(inner, Map):
            if not f.required and not any(g.required for g in inner.fields.values()):
                yield key, inner
            yield from _blocks(inner, key)


BLOCKS = list(_blocks(CATALOG_SPEC))


def _build(doc: dict):
    return dataclasses.replace(parse_catalog(yaml.safe_dump(doc, sort_keys=False), "edited.yaml"), locations={})


def _with(path: tuple, value) -> dict:
    """The default catalog with the block at ``path`` left out (``value`` None) or set to ``value``."""
    doc = copy.deepcopy(BASE)
    holder = doc
    for part in path[:-1]:
        holder = holder[part]
    holder.pop(path[-1], None)
    if value is not None:
        holder[path[-1]] = value
    return doc


def _name(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def test_every_optional_block_is_checked():
    names = {_name(p) for p, _ in BLOCKS}
    # the blocks a user writes in part: the rate alerts, absence, counters, tempo, a metric
    assert {"alerting", "alerting.error_rate", "alerting.nothing_rate", "alerting.absence", "alerting.counters",
            "tempo", "prometheus", "stages.0.measurements.1.metric"} <= names


@pytest.mark.parametrize("path,block", BLOCKS, ids=[_name(p) for p, _ in BLOCKS])
def test_a_block_left_out_equals_the_block_written_in_part(path, block):
    left_out = _build(_with(path, None))
    assert _build(_with(path, {})) == left_out, f"{_name(path)}: {{}} differs from the block left out"
    for key, f in block.fields.items():
        if f.default is None or isinstance(f.spec, Map):
            continue
        partial = _build(_with(path, {key: f.default}))
        assert partial == left_out, f"{_name(path)}: {{{key}: {f.default!r}}} flips another key's default"


def test_nothing_rate_above_only_keeps_its_wait_and_ticket():
    """The issue's case, on the model the rules read."""
    doc = _with(("alerting", "nothing_rate"), {"above": 0.1})
    rate = _build(doc).alerting.nothing_rate
    assert (rate.above, rate.for_, rate.severity) == (0.1, "10m", "ticket")
    left_out = _build(_with(("alerting", "nothing_rate"), None)).alerting.nothing_rate
    assert (left_out.above, left_out.for_, left_out.severity) == (0.05, "10m", "ticket")
    error = _build(_with(("alerting", "error_rate"), {"severity": "ticket"})).alerting.error_rate
    assert (error.above, error.for_, error.severity) == (0.05, "5m", "ticket")


def test_reference_table_gives_each_rate_alert_its_own_defaults():
    rows = {line.split("|")[1].strip(" `"): [c.strip(" `") for c in line.split("|")[2:5]]
            for line in reference_table().splitlines()[2:]}
    assert rows["alerting.nothing_rate.for"][:2] == ["no", "10m"]
    assert rows["alerting.nothing_rate.severity"][:2] == ["no", "ticket"]
    assert rows["alerting.error_rate.for"][:2] == ["no", "5m"]
    assert rows["alerting.error_rate.severity"][:2] == ["no", "page"]
    assert rows["alerting.nothing_rate.above"][:2] == ["no", "0.05"]


def test_block_defaults_refuses_a_block_with_a_required_key():
    from dashgen.catalog.yamlspec import BLOCK_DEFAULTS, Num
    with pytest.raises(TypeError):
        Field(Map(fields={"x": Field(Num(), required=True)}), default=BLOCK_DEFAULTS)
