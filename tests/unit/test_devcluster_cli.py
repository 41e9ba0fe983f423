import argparse
from pathlib import Path

import pytest

from rollouts.devcluster import cli
from rollouts.devcluster.clusters import NodeStatus, Status
from rollouts.devcluster.states import parse_state


def run(argv):
    parser = argparse.ArgumentParser(prog="rollouts")
    subparsers = parser.add_subparsers(dest="command")
    cli.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nodes", "0"], "--nodes must be at least 1"),
        (["--with", "istio,linkerd"], "unknown add-on 'linkerd'"),
        (["--apiserver-port", "99999"], "--apiserver-port"),
    ],
)
def test_bad_up_arguments_print_a_message_not_a_traceback(tmp_path, capsys, argv, message):
    assert run(["dev-cluster", "up", "--dir", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "state.json").exists(), "nothing may start on bad input"


def test_down_and_status_of_an_empty_directory(tmp_path, capsys):
    assert run(["dev-cluster", "down", "--dir", str(tmp_path)]) == 0
    assert "no devcluster was running" in capsys.readouterr().out
    assert run(["dev-cluster", "status", "--dir", str(tmp_path)]) == 3
    assert "no devcluster in" in capsys.readouterr().out


def test_status_of_a_damaged_state_file_is_a_message(tmp_path, capsys):
    (tmp_path / "state.json").write_text("{not json")
    assert run(["dev-cluster", "status", "--dir", str(tmp_path)]) == 1
    assert "state file is not valid JSON" in capsys.readouterr().err


def test_format_status_of_a_running_cluster():
    state = parse_state(
        '{"supervisorPid": 1, "phase": "ready", "server": "https://127.0.0.1:5", "ports": {"apiserver": 5},'
        ' "children": [{"part": "etcd", "pid": 2, "log": ""}]}'
    )
    nodes = (NodeStatus("n-0", True), NodeStatus("n-1", False))
    text = cli.format_status(Status(Path("/c"), running=True, state=state, nodes=nodes))
    assert "running (phase ready)" in text
    assert "apiserver 5" in text
    assert "etcd 2" in text
    assert "1/2 Ready: n-0, n-1" in text


def test_format_status_of_a_failed_cluster_with_leftovers():
    state = parse_state('{"supervisorPid": 1, "phase": "failed", "error": "scheduler: exited"}')
    text = cli.format_status(Status(Path("/c"), running=False, state=state, pids_alive=(7,)))
    assert "not running (phase failed)" in text
    assert "last error: scheduler: exited" in text
    assert "leftover processes: 7" in text
