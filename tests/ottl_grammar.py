"""A syntax check of OTTL conditions, transcribed from the collector's own grammar.

Source: open-telemetry/opentelemetry-collector-contrib ``pkg/ottl/grammar.go`` at commit
055d362592dc8e27f0b91bd0568f1de43d25f518: the lexer rules of ``buildLexer`` (in their order, which
matters) and the participle structs ``booleanExpression`` / ``term`` / ``booleanValue`` /
``comparison`` / ``value`` / ``mathExpression`` / ``path`` / ``converter`` as an ordered-choice
recursive descent. It answers "would ``ParseConditions`` accept this text", not whether the paths or
functions exist in a context (that the collector checks at start-up); the one semantic check the
grammar itself makes is kept: a lowercase function (an editor) cannot be a value.
"""

from __future__ import annotations

import re

LEXER = [  # (name, pattern), grammar.go buildLexer
    ("Bytes", r"0x[a-fA-F0-9]+"),
    ("Float", r"[-+]?\d*\.\d+([eE][-+]?\d+)?"),
    ("Int", r"[-+]?\d+"),
    ("String", r'"(\\.|[^\\"])*"'),
    ("OpNot", r"\b(not)\b"),
    ("OpOr", r"\b(or)\b"),
    ("OpAnd", r"\b(and)\b"),
    ("OpComparison", r"==|!=|>=|<=|>|<"),
    ("OpAddSub", r"\+|\-"),
    ("OpMultDiv", r"\/|\*"),
    ("Boolean", r"\b(true|false)\b"),
    ("Equal", r"="),
    ("LParen", r"\("),
    ("RParen", r"\)"),
    ("LBrace", r"\{"),
    ("RBrace", r"\}"),
    ("Colon", r"\:"),
    ("Punct", r"[,.\[\]]"),
    ("Uppercase", r"[A-Z][A-Z0-9_]*"),
    ("Lowercase", r"[a-z][a-z0-9_]*"),
    ("whitespace", r"\s+"),
]
_RULES = [(name, re.compile(p)) for name, p in LEXER]


class OTTLSyntaxError(ValueError):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        for name, rx in _RULES:
            m = rx.match(text, pos)
            if m and m.end() > pos:
                if name != "whitespace":
                    out.append((name, m.group()))
                pos = m.end()
                break
        else:
            raise OTTLSyntaxError(f"unexpected character {text[pos]!r} at {pos}")
    return out


class _Parser:
    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else ("EOF", "")

    def accept(self, kind, value=None):
        tok = self.peek()
        if tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind, value=None):
        tok = self.accept(kind, value)
        if tok is None:
            raise OTTLSyntaxError(f"expected {value or kind}, got {self.peek()[1] or 'end'!r}")
        return tok

    def attempt(self, rule):
        """Ordered choice: run ``rule``; on failure restore the position and return None."""
        saved = self.i
        try:
            return rule()
        except OTTLSyntaxError:
            self.i = saved
            return None

    # boolean expressions ----------------------------------------------------------------------
    def boolean_expression(self):
        self.term()
        while self.accept("OpOr"):
            self.term()

    def term(self):
        self.boolean_value()
        while self.accept("OpAnd"):
            self.boolean_value()

    def boolean_value(self):
        self.accept("OpNot")
        for rule in (self.comparison, self.const_expr, self.sub_expression):
            if self.attempt(rule) is not None:
                return True
        raise OTTLSyntaxError(f"expected a condition at {self.peek()[1] or 'end'!r}")

    def sub_expression(self):
        self.expect("LParen")
        self.boolean_expression()
        self.expect("RParen")
        return True

    def comparison(self):
        self.value()
        self.expect("OpComparison")
        self.value()
        return True

    def const_expr(self):
        if self.accept("Boolean"):
            return True
        return self.converter()

    # values -----------------------------------------------------------------------------------
    def value(self):
        if self.accept("Lowercase", "nil"):
            return True
        saved = self.i
        if self.attempt(self.math_literal) is not None and self.peek()[0] not in ("OpAddSub", "OpMultDiv"):
            return True
        self.i = saved
        for rule in (self.math_expression, lambda: self.expect("Bytes"), lambda: self.expect("String"),
                     lambda: self.expect("Boolean"), self.enum, self.map_value, self.list_value):
            if self.attempt(rule) is not None:
                return True
        raise OTTLSyntaxError(f"expected a value at {self.peek()[1] or 'end'!r}")

    def enum(self):
        self.expect("Uppercase")
        if self.peek()[0] == "Lowercase":
            raise OTTLSyntaxError("not an enum")
        return True

    def _function_name(self, first):
        self.expect(first)
        while self.peek()[0] in ("Uppercase", "Lowercase"):
            self.i += 1

    def _arguments(self):
        self.expect("LParen")
        if not self.accept("RParen"):
            self.argument()
            while self.accept("Punct", ","):
                self.argument()
            self.expect("RParen")

    def argument(self):
        if self.peek()[0] == "Lowercase" and self.peek(1)[0] == "Equal":
            self.i += 2
        if self.attempt(self.value) is None:
            self._function_name("Uppercase")  # a function passed by name
        return True

    def converter(self):
        self._function_name("Uppercase")
        self._arguments()
        self.keys()
        return True

    def editor_in_value(self):
        self._function_name("Lowercase")
        self._arguments()
        return True

    def keys(self):
        while self.peek() == ("Punct", "["):
            self.i += 1
            if not (self.accept("String") or self.accept("Int")):
                raise OTTLSyntaxError("a key is a string or an int")
            self.expect("Punct", "]")

    def path(self):
        self.expect("Lowercase")
        self.keys()
        while self.accept("Punct", "."):
            self.expect("Lowercase")
            self.keys()
        return True

    def math_literal(self):
        if self.attempt(self.editor_in_value) is not None:
            raise _EditorAsValue("converter names must start with an uppercase letter")
        for rule in (self.converter, lambda: self.expect("Float"), lambda: self.expect("Int"), self.path):
            if self.attempt(rule) is not None:
                return True
        raise OTTLSyntaxError("expected a literal")

    def math_value(self):
        if self.attempt(self.math_literal) is not None:
            return True
        self.expect("LParen")
        self.math_expression()
        self.expect("RParen")
        return True

    def math_expression(self):
        self.math_value()
        while True:
            if self.accept("OpMultDiv") or self.accept("OpAddSub"):
                self.math_value()
            else:
                return True

    def map_value(self):
        self.expect("LBrace")
        while not self.accept("RBrace"):
            self.expect("String")
            self.expect("Colon")
            self.value()
            self.accept("Punct", ",")
        return True

    def list_value(self):
        self.expect("Punct", "[")
        if not self.accept("Punct", "]"):
            self.value()
            while self.accept("Punct", ","):
                self.value()
            self.expect("Punct", "]")
        return True


class _EditorAsValue(Exception):
    """Not an OTTLSyntaxError: ordered choice must not swallow it."""


def _check(text: str, rule: str, what: str) -> None:
    p = _Parser(tokenize(text))
    try:
        getattr(p, rule)()
    except _EditorAsValue as exc:
        raise OTTLSyntaxError(str(exc)) from None
    if p.peek()[0] != "EOF":
        raise OTTLSyntaxError(f"unexpected {p.peek()[1]!r} after the {what}")


def check_condition(text: str) -> None:
    """Raise OTTLSyntaxError unless ``text`` parses as one OTTL condition (``ParseConditions``)."""
    _check(text, "boolean_expression", "condition")


def check_value(text: str) -> None:
    """Raise OTTLSyntaxError unless ``text`` parses as one OTTL value (``ParseValueExpression``)."""
    _check(text, "value", "value")
