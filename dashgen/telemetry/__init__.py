"""The telemetry side: instrumentation, the session simulator, trace verification, OTLP JSON."""
