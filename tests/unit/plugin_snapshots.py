"""Snapshot files for the plugin's renderers: ``tests/unit/data/plugin/snapshots/<name>``.

A test compares rendered text with the committed file. To accept a deliberate change, run the
tests with ``ROLLOUTS_UPDATE_SNAPSHOTS=1`` (files are rewritten) and review the diff in git.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "data" / "plugin" / "snapshots"


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("ROLLOUTS_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(text, encoding="utf-8")
        if os.environ.get("ROLLOUTS_UPDATE_SNAPSHOTS") != "1":
            raise AssertionError(f"snapshot {name} did not exist; written, review and commit it")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot"
