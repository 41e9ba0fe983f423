"""The base model and the small Kubernetes types every ``argoproj.io/v1alpha1`` kind shares.

One pydantic class, :class:`KubeModel`, fixes how all API models behave:

* camelCase JSON names (``alias_generator``), Python names accepted too (``populate_by_name``);
* ``extra="allow"``: fields this version does not know (a newer Argo CRD, a field another tool
  adds) are kept and written back, so the controller never drops data it does not understand;
* :meth:`KubeModel.to_dict` dumps by alias with ``exclude_none``, so an object read from the API
  round-trips without gaining fields (explicit ``null`` values of optional fields are dropped);
* attribute docstrings become field descriptions, and those become the CRD descriptions.

The CRD generator (``rollouts.crds.generate``) walks these classes. Python types carry the
OpenAPI shape; the few things a Python type cannot say (``format: int64``, ``date-time``,
``nullable``, a preserved opaque object) are :class:`SchemaHint` markers inside ``Annotated``.
Values are carried raw: IntOrString stays ``int | str``, durations and timestamps stay strings;
``analysis.values`` interprets them.

This module lives in ``analysis`` because ``analysis`` may not import ``rollouts`` and both
need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

__all__ = [
    "NULLABLE",
    "CelRule",
    "Condition",
    "Int64",
    "IntOrString",
    "KubeModel",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ManifestError",
    "NullableTime",
    "ObjectMeta",
    "OpaqueObject",
    "OwnerReference",
    "ResourceMetadata",
    "SchemaHint",
    "Time",
]


@dataclass(frozen=True)
class SchemaHint:
    """OpenAPI keywords merged into a field's CRD schema where the Python type cannot say them.

    Stored as sorted pairs because typing hashes ``Annotated`` metadata.
    """

    pairs: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, keywords: Mapping[str, Any]) -> SchemaHint:
        return cls(tuple(sorted(keywords.items())))

    @property
    def keywords(self) -> dict[str, Any]:
        return dict(self.pairs)


@dataclass(frozen=True)
class CelRule:
    """A CEL validation rule (``x-kubernetes-validations``) the API server enforces on a field."""

    rule: str
    message: str


NULLABLE = SchemaHint.of({"nullable": True})
"""The API server must accept ``null`` here (Go clients send it for nil pointers without omitempty)."""

IntOrString = int | str
"""Kubernetes IntOrString; the generator turns ``int | str`` into ``x-kubernetes-int-or-string``."""

Int64 = Annotated[int, SchemaHint.of({"format": "int64"})]
"""An integer Go declares as int64 (plain ``int`` fields are int32)."""

Time = Annotated[str, SchemaHint.of({"format": "date-time"})]
"""An RFC 3339 timestamp, kept as the string the API returned."""

NullableTime = Annotated[str | None, SchemaHint.of({"format": "date-time", "nullable": True})]
"""A Go ``metav1.Time`` value field: serialised as ``null`` when zero."""

OpaqueObject = Annotated[dict[str, Any], SchemaHint.of({"x-kubernetes-preserve-unknown-fields": True})]
"""A JSON object stored as is (pod templates, Job specs, plugin configs)."""


class ManifestError(ValueError):
    """A manifest that does not fit the model; the message names every offending field path."""


class KubeModel(BaseModel):
    """Base of every API model: camelCase aliases, unknown fields kept, lossless round trip."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="allow",
        use_attribute_docstrings=True,
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Validate a decoded manifest; raise :class:`ManifestError` naming each bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ManifestError(_describe(cls.__name__, data, error)) from None

    def to_dict(self) -> dict[str, Any]:
        """The manifest as the API expects it: camelCase keys, no ``None`` values added."""
        return self.model_dump(by_alias=True, exclude_none=True)

    def unknown_fields(self) -> list[str]:
        """Paths (``spec.strategy.canary.futureKnob``) of fields no model declares, e.g. for lint."""
        found = [_join(key) for key in self.model_extra or {}]
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            key = field.alias or name
            if isinstance(value, KubeModel):
                found += [_join(key, path) for path in value.unknown_fields()]
            elif isinstance(value, list | dict):
                items = value.items() if isinstance(value, dict) else enumerate(value)
                for index, item in items:
                    if isinstance(item, KubeModel):
                        found += [_join(key, path, index) for path in item.unknown_fields()]
        return found


def _join(key: str, rest: str = "", index: int | str | None = None) -> str:
    head = key if index is None else f"{key}[{index}]" if isinstance(index, int) else f"{key}.{index}"
    return f"{head}.{rest}" if rest else head


def _describe(kind: str, data: Mapping[str, Any], error: ValidationError) -> str:
    metadata = data.get("metadata") if isinstance(data, Mapping) else None
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    subject = f"{kind} {name!r}" if name else kind
    problems = sorted({f"{_path(issue['loc'])}: {issue['msg']}" for issue in error.errors()})
    return f"{subject} is invalid: " + "; ".join(problems)


def _path(location: tuple[int | str, ...]) -> str:
    """``('spec', 'metrics', 0, 'name')`` → ``spec.metrics[0].name``, as kubectl prints paths."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "<root>"


class ResourceMetadata(KubeModel):
    """Labels and annotations to add to an object the controller creates."""

    labels: dict[str, str] | None = None
    """Labels to add."""
    annotations: dict[str, str] | None = None
    """Annotations to add."""


class LabelSelectorRequirement(KubeModel):
    """One set-based requirement of a label selector."""

    key: str
    """Label key the requirement applies to."""
    operator: str
    """In, NotIn, Exists or DoesNotExist."""
    values: list[str] | None = None
    """Values for In/NotIn; empty for Exists/DoesNotExist."""


class LabelSelector(KubeModel):
    """A Kubernetes label selector (the requirements are ANDed)."""

    match_labels: dict[str, str] | None = None
    """Exact label matches."""
    match_expressions: list[LabelSelectorRequirement] | None = None
    """Set-based requirements."""


class OwnerReference(KubeModel):
    """A reference to the object that owns this one."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(KubeModel):
    """The common fields of ``metadata`` (anything else the API returns is kept as extra)."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None


class Condition(KubeModel):
    """A status condition as Argo Rollouts writes them on Rollouts and Experiments."""

    type: str
    """Condition type, e.g. Progressing, Available, Paused, Completed, Healthy, InvalidSpec."""
    status: str
    """True, False or Unknown."""
    last_update_time: NullableTime
    """Last time the condition was updated."""
    last_transition_time: NullableTime
    """Last time the condition changed status."""
    reason: str
    """Machine-readable reason for the last transition."""
    message: str
    """Human-readable detail."""
