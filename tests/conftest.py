"""Settings shared by every test: Hypothesis never enforces a wall-clock deadline (timing is for bench/)."""

from hypothesis import settings

settings.register_profile("rollouts", deadline=None)
settings.load_profile("rollouts")
