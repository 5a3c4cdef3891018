"""The series a PromQL expression reads: ``name{label op "value", ...}`` selectors, for tests.

Enough PromQL for what dashgen writes and what a dashboard author may add: grouping clauses
(``by``/``without``/``on``/``ignoring``/``group_left``/``group_right``) and range/subquery brackets are
dropped, string literals are read with their escapes, functions are names followed by ``(``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
             "group_right", "inf", "nan", "atan2", "start", "end"}
_STRING = r'"(?:\\.|[^"\\])*"'
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(' + _STRING + r')\s*,?')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value)


def _unquote(lit: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), lit[1:-1])


def selectors(expr: str) -> list[Selector]:
    out: list[Selector] = []
    text = _GROUPING.sub(" ", expr)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = re.compile(_STRING).match(text, i).end()
            continue
        if ch == "{":  # a selector without a name: {__name__="x"} is not something dashgen writes
            raise ValueError(f"selector without a metric name in {expr!r}")
        m = _NAME.match(text, i)
        if not m or (i and (text[i - 1].isalnum() or text[i - 1] in "_.$")):
            i += 1
            continue
        name, j = m.group(), m.end()
        k = j
        while k < len(text) and text[k] == " ":
            k += 1
        if k < len(text) and text[k] == "(" or name in _KEYWORDS:
            i = j
            continue
        matchers: list[tuple[str, str, str]] = []
        if k < len(text) and text[k] == "{":
            k += 1
            while True:
                mm = _MATCHER.match(text, k)
                if not mm:
                    break
                matchers.append((mm.group(1), mm.group(2), _unquote(mm.group(3))))
                k = mm.end()
            k = text.index("}", k) + 1
            j = k
        out.append(Selector(name, tuple(matchers)))
        i = j
    return out
