"""A safe evaluator of the expr-lang syntax Argo Rollouts uses for metric conditions.

Argo evaluates ``successCondition`` and ``failureCondition`` with the Go library
``github.com/expr-lang/expr``. This package reads the same syntax and gives the same results for
the values metric providers return, without ever handing user text to Python (no ``eval``, no
``compile``): text → tokens (``lexer``) → tree (``parser``) → value (``evaluator``, with
``operators``, ``builtins``, ``times`` and our own linear-time RE2 matcher in ``regexes``).

Untrusted text and untrusted results are the normal case, so everything is bounded (``Limits``):
text length, tree depth, evaluation steps, sizes of built values, nesting of walked values. Any
failure, including exceeding a bound, is an ``ExprError`` whose message names the position.
"""

from analysis.expr.conditions import argo_environment, evaluate_condition
from analysis.expr.errors import ExprError
from analysis.expr.limits import DEFAULT_LIMITS, Limits
from analysis.expr.program import Program, compile_expression
from analysis.expr.values import Duration

__all__ = [
    "DEFAULT_LIMITS",
    "Duration",
    "ExprError",
    "Limits",
    "Program",
    "argo_environment",
    "compile_expression",
    "evaluate_condition",
]
