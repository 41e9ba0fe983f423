"""Analysis: templates, runs, metric providers, the safe expression evaluator.

Never imports ``rollouts``: the Rollout controller depends on analysis, not the other way round.
"""
