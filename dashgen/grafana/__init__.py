"""Grafana over HTTP: the client, one handler per resource kind, plan (pure diff), apply."""
