"""The Rollout controller: a thin kopf shell around the pure planner (`rollouts.planner`).

kopf is used as an event loop, not as a handler framework. It lists and watches; compact
projections of the children a Rollout owns sit in kopf indexes (`observe`, `wakeups`); every
watch event only *wakes* the reconcile loop of the Rollout it concerns (`wakeups`). Each Rollout
has one long-lived asyncio task (`loop`) that sleeps until woken or until the earliest time the
planner asked to look again, then rebuilds `Observed`, calls `plan_rollout`, sends the plan's
writes (`apply`, `apicalls`, `events`) and patches the status at most once. Nothing is stored in
annotations and kopf adds no finalizer, so a Rollout migrated from Argo Rollouts is left exactly
as Argo left it, and deleting a Rollout never waits for this controller.

Modules: `settings` (configuration, kopf settings), `kube` (the async API client), `apicalls`
(actions → HTTP requests, pure), `events` (Kubernetes Events), `templates` (defaulting-tolerant
pod-template comparison), `observe` (projections → `Observed`), `writeback` (our own writes win
over a lagging watch), `apply` (one plan against the API), `schedule` (when a loop looks again),
`loop` (one task per Rollout), `wakeups` (the kopf registry), `metrics`, `runtime` (wiring and
running under kopf), `cli` (``rollouts controller``).
"""

from __future__ import annotations

from rollouts.controller.settings import ControllerConfig

__all__ = ["ControllerConfig"]
