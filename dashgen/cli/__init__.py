"""The ``dashgen`` command line: one module per command family, loaded lazily by ``main``."""

from .main import cli, main

__all__ = ["cli", "main"]
