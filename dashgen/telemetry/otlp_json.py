"""OTLP JSON: encode SDK spans to the OTLP/HTTP JSON encoding, and read trace exports back.

Encoding follows the OTLP/HTTP JSON mapping: ``resourceSpans[].scopeSpans[].spans[]``, trace and
span ids in lower-case hex, 64-bit integers (``intValue``, ``*TimeUnixNano``) as strings.

Reading accepts what people actually have on disk:

- one JSON document, or JSON Lines (the collector's ``file`` exporter writes one
  ``ExportTraceServiceRequest`` per line);
- ``resourceSpans`` or ``batches`` (Tempo's trace API in some versions), ``scopeSpans`` or
  ``instrumentationLibrarySpans`` (old exporters);
- ``intValue`` as a string or a number; ids in hex or base64 (protobuf's JSON for bytes).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InputError

# OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
# The SDK's SpanKind enum is the same order starting at INTERNAL = 0.
_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def encode_value(v: Any) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, bytes):
        return {"bytesValue": base64.b64encode(v).decode("ascii")}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [encode_value(x) for x in v]}}
    return {"stringValue": str(v)}


def encode_attributes(attrs) -> list[dict]:
    return [{"key": k, "value": encode_value(v)} for k, v in (attrs or {}).items()]


def encode_span(span) -> dict:
    ctx = span.context
    out = {
        "traceId": f"{ctx.trace_id:032x}",
        "spanId": f"{ctx.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,
        "startTimeUnixNano": str(span.start_time),
        "endTimeUnixNano": str(span.end_time),
        "attributes": encode_attributes(span.attributes),
    }
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.events:
        out["events"] = [{"timeUnixNano": str(e.timestamp), "name": e.name, "attributes": encode_attributes(e.attributes)}
                         for e in span.events]
    status = {"code": _STATUS[span.status.status_code.name]}
    if span.status.description:
        status["message"] = span.status.description
    out["status"] = status
    return out


def encode_spans(spans: Iterable) -> dict:
    """An ``ExportTraceServiceRequest`` in OTLP JSON for finished SDK spans (``ReadableSpan``)."""
    groups: dict[tuple, dict] = {}
    resources: dict[tuple, dict] = {}
    for s in spans:
        rkey = tuple(sorted((k, repr(v)) for k, v in s.resource.attributes.items()))
        resources.setdefault(rkey, {"resource": {"attributes": encode_attributes(s.resource.attributes)},
                                    "scopeSpans": []})
        scope = s.instrumentation_scope
        skey = (rkey, scope.name if scope else "", scope.version if scope else "")
        if skey not in groups:
            ss = {"scope": {"name": skey[1]}, "spans": []}
            if skey[2]:
                ss["scope"]["version"] = skey[2]
            groups[skey] = ss
            resources[rkey]["scopeSpans"].append(ss)
        groups[skey]["spans"].append(encode_span(s))
    return {"resourceSpans": list(resources.values())}


# Reading ---------------------------------------------------------------------------------------

@dataclass
class Value:
    kind: str  # int | double | string | bool | bytes | array | kvlist | empty
    value: Any


@dataclass
class SpanRecord:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    attributes: dict[str, Value] = field(default_factory=dict)
    resource: dict[str, Value] = field(default_factory=dict)
    status_code: int = 0


def _hex_id(raw: Any, nbytes: int) -> str:
    if not raw:
        return ""
    s = str(raw)
    if len(s) == 2 * nbytes:
        try:
            bytes.fromhex(s)
            return s.lower()
        except ValueError:
            pass
    try:
        b = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return s
    return b.hex() if len(b) == nbytes else s


def decode_value(v: Any) -> Value:
    if not isinstance(v, dict) or not v:
        return Value("empty", None)
    if "intValue" in v:
        raw = v["intValue"]
        try:
            return Value("int", int(raw))
        except (TypeError, ValueError):
            return Value("string", raw)
    if "doubleValue" in v:
        return Value("double", float(v["doubleValue"]))
    if "stringValue" in v:
        return Value("string", v["stringValue"])
    if "boolValue" in v:
        return Value("bool", bool(v["boolValue"]))
    if "bytesValue" in v:
        return Value("bytes", v["bytesValue"])
    if "arrayValue" in v:
        return Value("array", [decode_value(x).value for x in (v["arrayValue"] or {}).get("values", [])])
    if "kvlistValue" in v:
        return Value("kvlist", v["kvlistValue"])
    return Value("empty", None)


def _attributes(items) -> dict[str, Value]:
    out = {}
    for kv in items or []:
        if isinstance(kv, dict) and "key" in kv:
            out[kv["key"]] = decode_value(kv.get("value"))
    return out


def _documents(text: str, where: str) -> list:
    text = text.strip()
    if not text:
        raise InputError(f"{where}: the file is empty (expected an OTLP JSON trace export)")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as first:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                raise InputError(f"{where}:{first.lineno}:{first.colno}: not JSON: {first.msg} "
                                 f"(expected an OTLP JSON export, or JSON Lines of them)") from None
        return docs


def iter_resource_spans(doc: Any):
    if isinstance(doc, list):
        for d in doc:
            yield from iter_resource_spans(d)
        return
    if not isinstance(doc, dict):
        return
    for key in ("resourceSpans", "batches"):
        for rs in doc.get(key) or []:
            yield rs
    # Tempo's v2 trace API wraps the trace: {"trace": {"resourceSpans": [...]}}
    if isinstance(doc.get("trace"), dict):
        yield from iter_resource_spans(doc["trace"])


def read_spans(text: str, where: str = "<input>") -> list[SpanRecord]:
    """Every span in an OTLP JSON export (see the module doc for the accepted shapes)."""
    spans: list[SpanRecord] = []
    found_container = False
    for doc in _documents(text, where):
        for rs in iter_resource_spans(doc):
            found_container = True
            resource = _attributes(((rs or {}).get("resource") or {}).get("attributes"))
            for ss in (rs.get("scopeSpans") or []) + (rs.get("instrumentationLibrarySpans") or []):
                for sp in ss.get("spans") or []:
                    status = sp.get("status") or {}
                    code = status.get("code", 0)
                    if isinstance(code, str):
                        code = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}.get(code, 0)
                    spans.append(SpanRecord(
                        trace_id=_hex_id(sp.get("traceId"), 16),
                        span_id=_hex_id(sp.get("spanId"), 8),
                        parent_span_id=_hex_id(sp.get("parentSpanId"), 8),
                        name=sp.get("name", ""),
                        attributes=_attributes(sp.get("attributes")),
                        resource=resource,
                        status_code=int(code or 0),
                    ))
    if not found_container:
        raise InputError(f"{where}: no resourceSpans (or batches) in the file; expected an OTLP JSON trace export "
                         f"(a collector's file exporter, or Tempo's /api/traces/<id>)")
    return spans
