"""The analysis tests' Prometheus and exporter: the package's own, so the demo runs the same ones.

Kept as a module of the tests so they import it by its short name; a missing binary is a test
failure saying what to install, never a skip.
"""

from __future__ import annotations

from rollouts.localprom import (
    BASIC_AUTH_PASSWORD,
    BASIC_AUTH_USER,
    INSTALL_HINT,
    Exporter,
    PrometheusServer,
    free_port,
    self_signed_certificate,
)

__all__ = [
    "BASIC_AUTH_PASSWORD",
    "BASIC_AUTH_USER",
    "INSTALL_HINT",
    "Exporter",
    "PrometheusServer",
    "free_port",
    "self_signed_certificate",
]
