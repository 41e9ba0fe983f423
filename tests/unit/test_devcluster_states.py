import json

import pytest

from rollouts.devcluster import DevClusterError
from rollouts.devcluster.states import FAILED, READY, parse_state

GOOD = {
    "supervisorPid": 10,
    "startedAt": "2026-01-01T00:00:00Z",
    "phase": "ready",
    "server": "https://127.0.0.1:6443",
    "nodes": 3,
    "ports": {"apiserver": 6443, "etcdClient": 2379},
    "children": [
        {"part": "etcd", "pid": 11, "log": "/d/logs/etcd.log"},
        {"part": "apiserver", "pid": 12, "log": "/d/logs/apiserver.log"},
    ],
    "versions": {"kubernetes": "v1.36.3", "etcd": "v3.6.8", "go": "go1.26.8"},
}


def test_parses_what_the_supervisor_writes():
    state = parse_state(json.dumps(GOOD))
    assert state.phase == READY
    assert state.pids == (10, 11, 12)
    assert state.ports["apiserver"] == 6443
    assert state.children[1].part == "apiserver"
    assert state.versions["kubernetes"] == "v1.36.3"
    assert state.error == ""


def test_failure_fields():
    state = parse_state(json.dumps({**GOOD, "phase": "failed", "error": "boom", "failedPart": "scheduler"}))
    assert (state.phase, state.error, state.failed_part) == (FAILED, "boom", "scheduler")


def test_optional_fields_default():
    state = parse_state(json.dumps({"supervisorPid": 1, "phase": "starting"}))
    assert state.children == ()
    assert state.ports == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        (json.dumps({**GOOD, "phase": "sleeping"}), "unknown phase"),
        (json.dumps({**GOOD, "supervisorPid": "10"}), "supervisorPid"),
        (json.dumps({**GOOD, "supervisorPid": True}), "supervisorPid"),
        (json.dumps({**GOOD, "children": [{"part": "etcd"}]}), "'pid'"),
        (json.dumps({**GOOD, "children": ["etcd"]}), "child entry"),
        (json.dumps({**GOOD, "ports": {"apiserver": "x"}}), "ports"),
    ],
)
def test_malformed_state_is_a_clear_error(text, message):
    with pytest.raises(DevClusterError, match=message):
        parse_state(text)
