"""The test tree itself: pytest's default import mode needs unique test-module basenames.

tests/unit and tests/integration are not packages (their helpers are imported by bare name), so
two test files with one basename make collection fail for the whole run; catch it here first.
"""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_module_basenames_are_unique() -> None:
    names = Counter(path.name for path in TESTS.rglob("*.py") if path.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1 and name != "conftest.py"] == []
