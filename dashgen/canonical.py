"""Canonical bytes: the one JSON and YAML encoding of every file dashgen writes.

Sorted keys, 2-space indent, trailing newline, no stray nulls. The same definitions always give
the same bytes: no timestamps, no sets, no absolute paths, floats that are whole numbers written
as integers. ``None`` is dropped everywhere; ``NULL`` is the one null Grafana needs (the base
threshold step). A leaf: the generators (dashboards, alerts, collector) encode with it, and
``artifacts`` (the output tree, a layer up) re-exports it.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
from typing import Any

import yaml


class _GrafanaNull:
    """Serialised as JSON null by ``to_plain``; everything else that is None is dropped."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"


NULL = _GrafanaNull()


def to_plain(obj: Any) -> Any:
    """grafanalib objects -> plain JSON data, dropping None (but keeping NULL as null)."""
    t = type(obj)
    # the plain types first (most of what a build renders): none of them has to_json_data
    if t is str or t is int or t is bool:
        return obj
    if t is dict:
        return {k if type(k) is str else str(k): to_plain(v) for k, v in obj.items() if v is not None}
    if t is list or t is tuple:
        return [to_plain(v) for v in obj if v is not None]
    while hasattr(obj, "to_json_data"):
        obj = obj.to_json_data()
    if obj is NULL:
        return None
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj if v is not None]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return int(obj) if obj.is_integer() else obj
    raise TypeError(f"cannot render {type(obj).__name__}")


# -------------------------------------------------------------------------------------------------
# JSON: json.dumps(sort_keys=True, indent=2, ensure_ascii=False), without its pure-Python encoder
#
# With ``indent`` the standard library leaves its C encoder for a generic Python one
# (json/encoder.py: c_make_encoder only when indent is None), which was a fifth of a build. The
# data here is plain (``to_plain``: dict, list, str, int, float, bool, None), so one small
# recursive function writes the same bytes: the same string escaping (json's own
# ``encode_basestring``, C-accelerated), the same number reprs and separators. Tests compare it
# with json.dumps on every built file.

_JSON_STR = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False
_INT_REPR = int.__repr__
_FLOAT_REPR = float.__repr__
_INF = float("inf")


def _non_finite(o: float, names: tuple[str, str, str]) -> str | None:
    """``names`` (nan, inf, -inf) of a float that is not finite, else None."""
    if o != o:
        return names[0]
    if o == _INF:
        return names[1]
    if o == -_INF:
        return names[2]
    return None


def _json_float(o: float) -> str:
    return _non_finite(o, ("NaN", "Infinity", "-Infinity")) or _FLOAT_REPR(o)


def _json_into(o: Any, nl: str, out: list) -> None:
    """Append ``o`` as indented JSON to ``out``; ``nl`` is the newline and indent of its own level."""
    t = type(o)
    if t is str:
        out.append(_JSON_STR(o))
    elif t is dict or t is list:
        brackets = "{}" if t is dict else "[]"
        if not o:
            out.append(brackets)
            return
        inner = nl + "  "
        sep = brackets[0] + inner
        for item in (sorted(o) if t is dict else o):
            out.append(sep)
            sep = "," + inner
            if t is dict:
                out.append(_JSON_STR(item))
                out.append(": ")
                item = o[item]  # the key's value
            tv = type(item)  # strings and ints, most values, without a call
            if tv is str:
                out.append(_JSON_STR(item))
            elif tv is int:
                out.append(_INT_REPR(item))
            else:
                _json_into(item, inner, out)
        out.append(nl + brackets[1])
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif o is None:
        out.append("null")
    elif t is int:
        out.append(_INT_REPR(o))
    elif t is float:
        out.append(_json_float(o))
    else:  # a subclass of a plain type (an enum member...): what json.dumps would write
        out.append(json.dumps(o, sort_keys=True, indent=2, ensure_ascii=False).replace("\n", nl))


def _json_text(plain: Any) -> str:
    out: list[str] = []
    _json_into(plain, "\n", out)
    out.append("\n")
    return "".join(out)


def canonical_json(data: Any) -> str:
    plain = to_plain(data)
    text = _json_text(plain)
    _remember(text, plain)
    return text


# libyaml's emitter when pyyaml has it (10x faster; a test checks it writes the same bytes
# as the pure-Python one for every generated file, so output does not depend on the machine).
_BASE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_RESOLVED: dict[str, str] = {}  # scalar -> its implicit tag


class _Dumper(_BASE_DUMPER):  # type: ignore[misc, valid-type]
    """Remembers implicit-tag resolution: the same keys and values recur thousands of times, and
    resolving each one (a regex per implicit type) is most of what dumping costs.

    The emitter asks twice per scalar (libyaml: _yaml.pyx _serialize_node). Asked whether the
    scalar may be written plain (``implicit[0]``) the answer is the implicit resolvers' tag for
    the value, remembered; asked otherwise, pyyaml's BaseResolver.resolve returns the default
    scalar tag whenever there are no path resolvers (SafeDumper has none), so that is answered
    at once."""

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:
            return self.DEFAULT_SCALAR_TAG
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = _RESOLVED[value] = super().resolve(kind, value, implicit)
        return tag


_DUMPER = _Dumper

# -------------------------------------------------------------------------------------------------
# YAML: the nodes pyyaml's SafeRepresenter makes, without its per-object dispatch
#
# libyaml only emits: turning data into nodes (yaml/representer.py) stays Python and was most of
# what writing the rule files cost. Plain data needs none of its generality (no aliases: to_plain
# never shares a dict or list; no custom types), so ``_node`` makes the same nodes directly
# (SafeRepresenter's tags, scalar forms, float repr and sorted keys; block style everywhere, as
# default_flow_style=False asks) and libyaml serialises them. Tests compare the bytes with
# yaml.dump on every built file.

_STR, _INT, _BOOL, _FLOAT, _NULL_TAG = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "float", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_Scalar, _Mapping, _Sequence = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode


def _yaml_float(o: float) -> str:
    special = _non_finite(o, (".nan", ".inf", "-.inf"))
    if special:
        return special
    value = repr(o).lower()
    if "." not in value and "e" in value:  # SafeRepresenter.represent_float: 1e17 -> 1.0e17
        value = value.replace("e", ".0e", 1)
    return value


def _node(o: Any):
    t = type(o)
    if t is str:
        return _Scalar(_STR, o)
    if t is dict:
        items = list(o.items())
        try:
            items.sort()
        except TypeError:  # keys that do not compare: SafeRepresenter keeps their order too
            pass
        return _Mapping(_MAP, [(_node(k), _node(v)) for k, v in items], flow_style=False)
    if t is list:
        return _Sequence(_SEQ, [_node(v) for v in o], flow_style=False)
    if t is bool:
        return _Scalar(_BOOL, "true" if o else "false")
    if t is int:
        return _Scalar(_INT, str(o))
    if t is float:
        return _Scalar(_FLOAT, _yaml_float(o))
    if o is None:
        return _Scalar(_NULL_TAG, "null")
    raise yaml.representer.RepresenterError("cannot represent an object", o)


# -------------------------------------------------------------------------------------------------
# YAML: the common case written directly
#
# Most of what dashgen writes as YAML (rule files, the Collector fragment, the manifest) is block
# mappings and sequences of keys, numbers and one-line ASCII strings. For those ``_block`` writes
# the bytes libyaml's emitter writes (libyaml src/emitter.c: yaml_emitter_analyze_scalar and
# yaml_emitter_choose_scalar_style pick plain or single-quoted; yaml_emitter_write_plain_scalar
# and yaml_emitter_write_single_quoted fold at a space once the line passes ``width``; a sequence
# in a mapping is written indentless), without making a node per value or calling back into
# Python per scalar. Anything else (a line break, a tab, any non-ASCII character, a key longer
# than a simple key may be, a sequence directly in a sequence, an empty document) raises
# ``_Unusual`` and the whole document goes through libyaml as before. Tests compare the bytes
# with libyaml's and pyyaml's on every built file and on generated data.

_WIDTH = 100  # the width canonical_yaml asks libyaml for
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")  # a plain scalar cannot start with these
_PLAIN_RESOLVER = yaml.resolver.Resolver()


class _Unusual(Exception):
    """A document ``_block`` leaves to libyaml."""


def _plain_allowed(s: str) -> bool:
    """Whether libyaml may write the (non-empty, printable ASCII, one-line) ``s`` plain in block
    context, and reading it back plain gives a string (not a number, bool, null, date...)."""
    first = s[0]
    if first == " " or s[-1] == " " or first in _FIRST_INDICATORS or s.startswith(("---", "...")):
        return False
    if first in "?:-" and (len(s) == 1 or s[1] == " "):
        return False
    if ": " in s or s[-1] == ":" or " #" in s:
        return False
    tag = _RESOLVED.get(s)
    if tag is None:
        tag = _RESOLVED[s] = _PLAIN_RESOLVER.resolve(yaml.ScalarNode, s, (True, False))
    return tag == _STR


_STYLED: dict[str, str] = {}  # a one-line ASCII string -> as libyaml writes it unfolded


def _styled(s: str) -> str:
    """``s`` plain, or single-quoted where plain is not allowed (remembered: keys and values recur)."""
    text = _STYLED.get(s)
    if text is None:
        if not (s.isascii() and s.isprintable()):  # a line break, a tab, non-ASCII: libyaml's analysis
            raise _Unusual
        text = _STYLED[s] = s if s and _plain_allowed(s) else "'" + s.replace("'", "''") + "'"
    return text


def _scalar(o: Any, column: int, indent: int, out: list) -> None:
    """Append scalar ``o``, its first character at ``column``; a folded line continues at ``indent``."""
    t = type(o)
    if t is str:
        text = _styled(o)
        if column + len(text) <= _WIDTH + 1:  # no space reaches past the width: nothing to fold
            out.append(text)
        elif text[0] == "'":  # a plain scalar never starts with a quote
            out.append("'")
            _fold(o, column + 1, indent, out, quoted=True)
            out.append("'")
        else:
            _fold(o, column, indent, out, quoted=False)
    elif t is int:
        out.append(_INT_REPR(o))
    elif t is bool:
        out.append("true" if o else "false")
    elif t is float:
        out.append(_yaml_float(o))
    elif o is None:
        out.append("null")
    else:
        raise _Unusual


def _fold(s: str, column: int, indent: int, out: list, quoted: bool) -> None:
    """``s`` written from ``column`` on, a line break instead of a space once the line is past the
    width (the first space of a run, not followed by another; in quotes, not the first or last
    character), as libyaml's plain and single-quoted writers do. Walks the words between spaces
    (``split(" ")``: an empty word where spaces run)."""
    words = s.split(" ")
    last = len(words) - 1
    line = [words[0].replace("'", "''") if quoted else words[0]]
    column += len(line[0])
    for i in range(1, last + 1):
        # the space before words[i]: after another space? before another? the string's first or last?
        after_space = i > 1 and not words[i - 1]
        before_space = i < last and not words[i]
        edge = (i == 1 and not words[0]) or (i == last and not words[i])
        if not after_space and column > _WIDTH and not before_space and not (quoted and edge):
            line.append("\n" + " " * indent)
            column = indent
        else:
            line.append(" ")
            column += 1
        word = words[i].replace("'", "''") if quoted else words[i]
        line.append(word)
        column += len(word)
    out.append("".join(line))


def _key(k: Any) -> str:
    """A mapping key as libyaml writes a simple key (never folded)."""
    if type(k) is not str or len(k) > 128:  # libyaml writes a longer key as a complex "? key"
        raise _Unusual
    return _styled(k)


def _mapping(d: dict, indent: int, out: list, inline: bool) -> None:
    """Block mapping ``d`` with its keys at ``indent``; ``inline``: the first key continues the line."""
    pad = "\n" + " " * indent
    for i, k in enumerate(sorted(d)):
        if i or not inline:
            out.append(pad)
        key = _key(k)
        v = d[k]
        # most values: a string seen before, or an int, on the key's line with no folding to do
        text = _STYLED.get(v) if type(v) is str else _INT_REPR(v) if type(v) is int else None
        if text is not None and indent + len(key) + 2 + len(text) <= _WIDTH + 1:
            out.append(f"{key}: {text}")
        else:
            out.append(key)
            out.append(":")
            _value(v, indent, indent + len(key) + 1, out, in_mapping=True)


def _sequence(items: list, indent: int, out: list) -> None:
    """Block sequence ``items`` with its dashes at ``indent``."""
    pad = "\n" + " " * indent + "-"
    for v in items:
        out.append(pad)
        _value(v, indent, indent + 1, out, in_mapping=False)


def _value(v: Any, indent: int, column: int, out: list, in_mapping: bool) -> None:
    """The value after ``key:`` (``in_mapping``) or ``-``, which ends at ``column``; ``indent`` is the
    mapping's (or sequence's) own."""
    t = type(v)
    if t is dict and v:
        if in_mapping:
            _mapping(v, indent + 2, out, inline=False)
        else:  # "- key: value", the mapping's keys lined up after the dash
            out.append(" ")
            _mapping(v, indent + 2, out, inline=True)
    elif t is list and v:
        if not in_mapping:  # a sequence in a sequence ("- - x"): left to libyaml
            raise _Unusual
        _sequence(v, indent, out)  # indentless: the dashes under the key
    elif t is dict:
        out.append(" {}")
    elif t is list:
        out.append(" []")
    else:
        out.append(" ")
        _scalar(v, column + 1, indent + 2, out)


def _block(plain: Any) -> str:
    """``plain`` (a non-empty mapping or sequence) as libyaml writes it block style; ``_Unusual``
    when it holds something this writer leaves to libyaml."""
    out: list[str] = []
    if type(plain) is dict and plain:
        _mapping(plain, 0, out, inline=True)
    elif type(plain) is list and plain:
        _sequence(plain, 0, out)
        out[0] = "-"  # the document's first line has no line break before it
    else:
        raise _Unusual
    out.append("\n")
    return "".join(out)


def canonical_yaml(data: Any, dumper: type = _DUMPER) -> str:
    plain = to_plain(data)
    if dumper is not _DUMPER:  # another dumper (tests compare with pyyaml's own): its representer
        return yaml.dump(plain, Dumper=dumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                         width=100)
    try:
        text = _block(plain)
    except _Unusual:
        text = _libyaml(plain)
    _remember(text, plain)
    return text


def _libyaml(plain: Any) -> str:
    stream = io.StringIO()
    emitter = _DUMPER(stream, default_flow_style=False, allow_unicode=True, width=_WIDTH, sort_keys=True)
    try:
        emitter.open()
        emitter.serialize(_node(plain))
        emitter.close()
    finally:
        emitter.dispose()
    return stream.getvalue()


# -------------------------------------------------------------------------------------------------
# Reading back what was just written
#
# ``dashgen build`` lints its output before writing it (lint/gate.py), and lint reads files. Within
# ``decoded()`` (dashgen.pipeline wraps build and gate in it) every text the encoders above write
# is remembered with the data it encodes, and ``parse`` hands that data back (once) instead of
# decoding the text again: the encoders are exact (tests check ``parse`` of every built file
# against the data), so the gate sees what a reader of the files would.

_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar("dashgen_decoded", default=None)


def _remember(text: str, plain: Any) -> None:
    memo = _MEMO.get()
    if memo is not None:
        memo[text] = plain


@contextlib.contextmanager
def decoded():
    """Remember, while active, the data behind every canonical text, for ``parse`` to take back."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


# libyaml's parser when pyyaml was built with it: ten times faster on rule files, which
# ``dashgen build`` lints before writing them (lint/gate.py). Same data as yaml.safe_load.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_UNKNOWN = object()


def parse(path: str, text: str) -> Any:
    """A JSON or YAML artifact as data, by its suffix; raises ``ValueError``/``yaml.YAMLError``.

    Within ``decoded()``, a text this process just encoded gives back its data (once)."""
    memo = _MEMO.get()
    if memo:
        data = memo.pop(text, _UNKNOWN)
        if data is not _UNKNOWN:
            return data
    if path.endswith(".json"):
        return json.loads(text)
    if path.endswith((".yaml", ".yml")):
        return yaml.load(text, Loader=_YAML_LOADER)
    raise ValueError("not JSON or YAML")
