"""Go's ``encoding/json``, reproduced byte for byte for the types Argo Rollouts hashes.

Argo Rollouts names ReplicaSets and detects step changes by hashing the
output of Go's ``json.Marshal``. Replacing it without recreating every
ReplicaSet means producing the same bytes from Python, so this package
replays Go instead of approximating it:

* ``tables`` loads the field order and omission rules that ``hack/gojson``
  generates by reflection over the real Go types;
* ``codec`` decodes a JSON value into Go values by such a table (dropping
  what Go's decoder drops, rejecting what it rejects) and encodes them the
  way ``json.Marshal`` does;
* ``quantities``, ``times`` and ``literals`` hold the parts with their own
  rules: ``resource.Quantity``, ``metav1.Time``, and Go's spelling of
  strings and numbers.

Everything here is pure; nothing performs I/O except reading the packaged
tables.
"""

from rollouts.gojson.codec import GoJSONError, RawJSON, decode, encode, marshal
from rollouts.gojson.tables import GoField, GoType, TableError, TypeTable, load_table, parse_table

__all__ = [
    "GoField",
    "GoJSONError",
    "GoType",
    "RawJSON",
    "TableError",
    "TypeTable",
    "decode",
    "encode",
    "load_table",
    "marshal",
    "parse_table",
]
