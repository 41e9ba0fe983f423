"""``set image``'s decision, pure: parse ``CONTAINER=IMAGE`` and put the image into a pod template.

As in Argo's plugin, every container named CONTAINER among init, regular and ephemeral
containers gets the image, and ``*`` means all of them; naming no existing container is an error
rather than a silent no-op.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["ImageError", "parse_assignment", "with_image"]

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class ImageError(ValueError):
    """The assignment is malformed or names no container."""


def parse_assignment(text: str) -> tuple[str, str]:
    container, sep, image = text.partition("=")
    if not sep or not container.strip() or not image.strip() or any(c.isspace() for c in text):
        raise ImageError(f'invalid image assignment "{text}": expected CONTAINER=IMAGE (CONTAINER may be *)')
    return container, image


def with_image(template: Mapping[str, Any], container: str, image: str) -> dict[str, Any]:
    """A copy of the pod ``template`` with the image set; `ImageError` if no container matches."""
    updated = copy.deepcopy(dict(template))
    spec = updated.get("spec")
    matched = 0
    if isinstance(spec, dict):
        for key in CONTAINER_LISTS:
            for entry in spec.get(key) or []:
                if isinstance(entry, dict) and (container == "*" or entry.get("name") == container):
                    entry["image"] = image
                    matched += 1
    if not matched:
        raise ImageError(f'unable to find container named "{container}"')
    return updated
