"""Pydantic model classes → structural OpenAPI v3 schemas for CRDs.

We walk the Python type annotations ourselves instead of converting pydantic's JSON Schema:
JSON Schema output uses ``$ref``/``$defs`` and ``anyOf`` for optionals, none of which a
structural CRD schema may contain, so converting it would mean undoing most of it. The mapping
is small and explicit:

* ``str``/``bool``/``float`` → string/boolean/number; ``int`` → integer int32 (``Int64`` marks int64);
* ``X | None`` → the schema of ``X`` (optional is expressed by ``required``; ``null`` is accepted
  only where a ``nullable`` hint says so);
* ``int | str`` → ``x-kubernetes-int-or-string`` with the ``anyOf`` the API server allows;
* ``Literal[...]`` of strings → string enum; ``list[X]`` → array; ``dict[str, X]`` → map;
  ``dict[str, Any]`` → an object whose unknown fields are preserved;
* a model class → object with its fields under their JSON aliases, ``required`` sorted;
* ``SchemaHint`` and ``CelRule`` markers in ``Annotated`` add keywords and validation rules;
* attribute docstrings (pydantic field descriptions) become ``description``.

Anything else raises :class:`SchemaError`, so a model that cannot be expressed structurally is
caught when the CRDs are generated, not when the API server refuses them.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from analysis.models import CelRule, SchemaHint

__all__ = ["SchemaError", "model_schema", "type_schema"]

_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_SCALARS: dict[type, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    float: {"type": "number"},
    int: {"type": "integer", "format": "int32"},
}


class SchemaError(TypeError):
    """A Python type that has no structural OpenAPI equivalent."""


def model_schema(model: type[BaseModel], root_metadata: bool = False) -> dict[str, Any]:
    """The object schema of a model; with ``root_metadata`` its ``metadata`` is left to the API server."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        if root_metadata and key == "metadata":
            properties[key] = {"type": "object"}
        else:
            properties[key] = _field_schema(model, name, field)
        if field.is_required():
            required.append(key)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = sorted(required)
    return schema


def type_schema(annotation: Any) -> dict[str, Any]:
    """The schema of one Python type annotation."""
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        schema = type_schema(arguments[0])
        _apply_markers(schema, arguments[1:])
        return schema
    if origin in (Union, types.UnionType):
        return _union_schema(annotation, [member for member in arguments if member is not type(None)])
    if origin is Literal:
        if not all(isinstance(value, str) for value in arguments):
            raise SchemaError(f"only string literals become enums: {annotation!r}")
        return {"type": "string", "enum": list(arguments)}
    if origin is list:
        return {"type": "array", "items": type_schema(arguments[0])}
    if origin is dict:
        return _map_schema(annotation, *arguments)
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return model_schema(annotation)
    raise SchemaError(f"no structural schema for {annotation!r}")


def _field_schema(model: type[BaseModel], name: str, field: FieldInfo) -> dict[str, Any]:
    try:
        schema = type_schema(field.annotation)
    except SchemaError as error:
        raise SchemaError(f"{model.__name__}.{name}: {error}") from None
    _apply_markers(schema, field.metadata)
    description = field.description or _class_description(field.annotation)
    if description:
        schema["description"] = description
    return schema


def _class_description(annotation: Any) -> str | None:
    """A model-typed field without its own docstring is described by its class docstring."""
    members = [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
    if len(members) == 1 and inspect.isclass(members[0]) and issubclass(members[0], BaseModel):
        doc = members[0].__dict__.get("__doc__")
        return inspect.cleandoc(doc).split("\n\n")[0].replace("\n", " ") if doc else None
    return None


def _union_schema(annotation: Any, members: list[Any]) -> dict[str, Any]:
    if len(members) == 1:
        return type_schema(members[0])
    if sorted(members, key=repr) == sorted([int, str], key=repr):
        return {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    raise SchemaError(f"unions other than int | str are not structural: {annotation!r}")


def _map_schema(annotation: Any, key: Any, value: Any) -> dict[str, Any]:
    if key is not str:
        raise SchemaError(f"map keys must be strings: {annotation!r}")
    if value is Any:
        return {"type": "object", _PRESERVE: True}
    return {"type": "object", "additionalProperties": type_schema(value)}


def _apply_markers(schema: dict[str, Any], markers: Iterable[object]) -> None:
    for marker in markers:
        if isinstance(marker, SchemaHint):
            schema.update(marker.keywords)
        elif isinstance(marker, CelRule):
            rules = schema.setdefault("x-kubernetes-validations", [])
            rules.append({"rule": marker.rule, "message": marker.message})
