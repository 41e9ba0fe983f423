"""The one exception a command raises to stop with a message on stderr and a non-zero exit."""

from __future__ import annotations


class PluginError(Exception):
    """A failure the user can act on; ``main`` prints ``error: <message>`` and exits ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
