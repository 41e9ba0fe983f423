"""Executors run leaf steps and report what happened; the scheduler never sees processes or pods.

An executor is ``start(StartPod)``, ``stop(StopPod)``, ``poll() -> [PodReport]`` (what changed since
the last poll), ``wait(timeout)`` (block until something may have changed) and ``close()``:

* ``local``: subprocesses on this machine, each in its own mount namespace with a private
  ``/tmp``, ``/var/run/argo`` and private copies of the directories its outputs live in, so
  parallel steps writing the same path never collide; ``python``, ``sh`` and coreutils come from
  the host, images are ignored.
* ``kubernetes``: one Pod per leaf step, with a ``main`` container running the wrapper and a
  ``wait`` container reporting outputs through its termination message (and its log when they
  are too big for it).

``staging`` (the wrapper and output collection) and ``artifacts`` (the local repository) are
shared by both.
"""
