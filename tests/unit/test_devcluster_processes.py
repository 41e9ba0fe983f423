import subprocess
import sys
import time

from rollouts.devcluster import processes


def test_is_zombie_reads_the_state_after_the_command():
    assert processes.is_zombie(b"42 (dev cluster) Z 1 42 42")
    assert processes.is_zombie(b"42 (a) b) Z 1")  # a ")" inside the command name
    assert not processes.is_zombie(b"42 (devcluster) S 1 42 42")
    assert not processes.is_zombie(b"")


def test_mentions_the_directory_or_a_path_inside():
    directory = processes.Path("/tmp/c")
    assert processes.mentions(b"/bin/devcluster\0up\0--dir\0/tmp/c\0", directory)
    assert processes.mentions(b"/bin/devcluster\0etcd\0--data-dir=/tmp/c/etcd\0", directory)
    assert not processes.mentions(b"/bin/devcluster\0etcd\0--data-dir=/tmp/cc/etcd\0", directory)
    assert not processes.mentions(b"sleep\0100\0", directory)


def test_is_ours_follows_a_real_process(tmp_path):
    marker = tmp_path / "cluster"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"--dir={marker}/x"])
    try:
        # Popen may return between fork and exec; wait for the new command line to appear.
        deadline = time.monotonic() + 30
        while not processes.is_ours(child.pid, marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert processes.is_ours(child.pid, marker)
        assert not processes.is_ours(child.pid, tmp_path / "other")
        child.kill()
        assert processes.wait_gone([child.pid], marker, timeout=10) == []  # a zombie counts as gone
    finally:
        child.kill()
        child.wait()
    assert not processes.is_ours(child.pid, marker)
    assert not processes.is_ours(0, marker)
