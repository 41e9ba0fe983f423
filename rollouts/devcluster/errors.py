"""The one exception the devcluster driver raises: its message is meant for a person to read."""

from __future__ import annotations


class DevClusterError(Exception):
    """Something the user must fix or look at; the message says what and where (log tails)."""
