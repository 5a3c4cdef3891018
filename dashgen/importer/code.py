"""Python source for JSON-like values, formatted as a person would write it: one line when it fits
in 110 columns, otherwise one element per line with four-space indents; double-quoted strings.

``Code`` is an expression written as is (``kit.prometheus``) that stands for a value; ``Call`` is
a constructor call (``TimeSeriesPanel(title=..., ...)``). Both know the value they stand for, so
the importer can build the object the file will build and compare it with the source.
"""

from __future__ import annotations

import json
import keyword
from typing import Any, Callable

WIDTH = 110
PACKED = frozenset({"PrometheusTarget", "ThresholdStep"})  # small calls: arguments filled into lines


class Code:
    def __init__(self, text: str, value: Any):
        self.text, self.value = text, value


class Call:
    def __init__(self, name: str, make: Callable, args: tuple = (), kwargs: dict | None = None):
        self.name, self.make, self.args, self.kwargs = name, make, args, dict(kwargs or {})

    def build(self):
        return self.make(*[real(a) for a in self.args], **{k: real(v) for k, v in self.kwargs.items()})


def real(value):
    """The value ``value`` stands for: Code and Call resolved, recursively."""
    if isinstance(value, Code):
        return value.value
    if isinstance(value, Call):
        return value.build()
    if isinstance(value, dict):
        return {k: real(v) for k, v in value.items()}
    if isinstance(value, list):
        return [real(v) for v in value]
    return value


def fmt(value, indent: int = 0, used: int = 0) -> str:
    """``value`` as Python source starting ``used`` columns into a line indented by ``indent``."""
    one = _one_line(value)
    if one is not None and indent + used + len(one) <= WIDTH:
        return one
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, Call) and value.name in PACKED:
        packed = _packed(value, indent)
        if packed is not None:
            return packed
    if isinstance(value, Call):
        parts = [fmt(a, indent + 4) for a in value.args]
        named, starred = _split_kwargs(value.kwargs)
        parts += [f"{k}={fmt(v, indent + 4, len(k) + 1)}" for k, v in named.items()]
        if starred:
            parts.append("**" + fmt(starred, indent + 4, 2))
        return f"{value.name}(\n" + "".join(f"{inner}{p},\n" for p in parts) + f"{pad})"
    if isinstance(value, dict):
        items = [f"{_str(k)}: {fmt(v, indent + 4, len(_str(k)) + 2)}" for k, v in value.items()]
        return "{\n" + "".join(f"{inner}{i},\n" for i in items) + f"{pad}}}"
    if isinstance(value, list):
        return "[\n" + "".join(f"{inner}{fmt(v, indent + 4)},\n" for v in value) + f"{pad}]"
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        # a query written over several lines stays so: one literal per line, joined by Python
        lines = value.splitlines(keepends=True)
        return "(\n" + "".join(f"{inner}{_str(line)}\n" for line in lines) + f"{pad})"
    return one if one is not None else repr(value)


def _packed(call: Call, indent: int) -> str | None:
    """``Name(a=1, b=2,\n    c=3)``: arguments filled into lines, when each fits on one."""
    named, starred = _split_kwargs(call.kwargs)
    parts = [_one_line(a) for a in call.args] + [_named(k, v) for k, v in named.items()]
    if starred or any(p is None for p in parts):
        return None
    inner = indent + 4
    lines, line = [], ""
    for p in parts:
        if line and inner + len(line) + len(p) + 2 > WIDTH:
            lines.append(line + ",")
            line = p
        else:
            line = f"{line}, {p}" if line else p
    lines.append(line + ",")
    return f"{call.name}(\n" + "".join(f"{' ' * inner}{x}\n" for x in lines) + f"{' ' * indent})"


def _split_kwargs(kwargs: dict) -> tuple[dict, dict]:
    named = {k: v for k, v in kwargs.items() if k.isidentifier() and not keyword.iskeyword(k)}
    return named, {k: v for k, v in kwargs.items() if k not in named}


def _one_line(value) -> str | None:
    """``value`` on one line, or None when it cannot be (a string of several lines inside)."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, Call):
        named, starred = _split_kwargs(value.kwargs)
        parts = [_one_line(a) for a in value.args] + [_named(k, v) for k, v in named.items()]
        if starred:
            inner = _one_line(starred)
            parts.append(None if inner is None else "**" + inner)
        return None if None in parts else f"{value.name}({', '.join(parts)})"
    if isinstance(value, dict):
        items = [_named(_str(k), v, ": ") for k, v in value.items()]
        return None if None in items else "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        items = [_one_line(v) for v in value]
        return None if None in items else "[" + ", ".join(items) + "]"
    if isinstance(value, str):
        return None if "\n" in value.rstrip("\n") else _str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return None


def _named(name: str, value, sep: str = "=") -> str | None:
    one = _one_line(value)
    return None if one is None else f"{name}{sep}{one}"


def _str(s) -> str:
    # json's escapes (\" \\ \n \t \uXXXX) are Python's too; double quotes as a person writes them
    return json.dumps(str(s), ensure_ascii=False)


def lines_of(text: str) -> int:
    return text.count("\n") + 1
