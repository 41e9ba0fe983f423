"""Traffic routers: pure functions from (routing object, desired weights) to patches.

Never imports ``rollouts`` or ``analysis``.
"""
