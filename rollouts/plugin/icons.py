"""Status icons and their colours, as Argo's plugin shows them (reference §9).

One table maps every status word the plugin prints (rollout phases, ReplicaSet health, pod and
run phases) to an icon and a tone; renderers print ``<icon> <status>`` and the terminal layer
decides whether a tone becomes an ANSI colour.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["KIND_ICONS", "Tone", "icon", "status_cell", "tone"]

Tone = Literal["green", "red", "yellow", "blue", "gray", "plain"]

PROGRESSING: Final = "◌"
PAUSED: Final = "॥"
HEALTHY: Final = "✔"
DEGRADED: Final = "✖"
WARNING: Final = "⚠"
UNKNOWN: Final = "?"
SCALED_DOWN: Final = "•"
WAITING: Final = "◷"

KIND_ICONS: Final = {
    "Rollout": "⟳",
    "Revision": "#",
    "ReplicaSet": "⧉",
    "Pod": "□",
    "Experiment": "Σ",
    "AnalysisRun": "\u03b1",  # alpha
    "Job": "⊞",
}

_ICONS: Final[dict[str, tuple[str, Tone]]] = {
    # rollout phases and ReplicaSet health
    "Healthy": (HEALTHY, "green"),
    "Progressing": (PROGRESSING, "yellow"),
    "Paused": (PAUSED, "gray"),
    "Degraded": (DEGRADED, "red"),
    "InvalidSpec": (WARNING, "red"),
    "ScaledDown": (SCALED_DOWN, "gray"),
    # analysis runs, experiments, jobs
    "Successful": (HEALTHY, "green"),
    "Running": (PROGRESSING, "yellow"),
    "Pending": (WAITING, "gray"),
    "Failed": (DEGRADED, "red"),
    "Error": (WARNING, "red"),
    "Inconclusive": (UNKNOWN, "yellow"),
    # pods (kubectl's status words)
    "Ready": (HEALTHY, "green"),
    "Completed": (HEALTHY, "green"),
    "Succeeded": (HEALTHY, "green"),
    "ContainerCreating": (PROGRESSING, "yellow"),
    "PodInitializing": (PROGRESSING, "yellow"),
    "Terminating": (PROGRESSING, "gray"),
    "NotReady": (PROGRESSING, "yellow"),
}
_FAILING_POD_REASONS: Final = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "OOMKilled",
        "Evicted",
    }
)


def _entry(status: str) -> tuple[str, Tone]:
    if status in _ICONS:
        return _ICONS[status]
    if status in _FAILING_POD_REASONS or status.startswith("Init:Err"):
        return DEGRADED, "red"
    if status.startswith("Init:"):
        return PROGRESSING, "yellow"
    return UNKNOWN, "plain"


def icon(status: str) -> str:
    return _entry(status)[0]


def tone(status: str) -> Tone:
    return _entry(status)[1]


def status_cell(status: str, health: str = "") -> str:
    """``✔ Healthy``; ``health`` picks the icon when given; an empty status stays empty."""
    return f"{icon(health or status)} {status}" if status else ""
