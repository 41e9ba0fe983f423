"""``python -m rollouts.plugin``: the same as the ``kubectl-rollouts`` executable."""

from rollouts.plugin import run

run()
