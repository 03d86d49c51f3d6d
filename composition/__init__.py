"""Bottom-up phase: scenarios -> atomic tasks -> compositional tasks -> filtering -> functions."""

from composition.ids import canonical_json, content_id
from composition.models import (
    AtomicTask,
    CompositionalTask,
    FunctionSpec,
    OutputRef,
    Scenario,
    Step,
    union_functions,
)

__all__ = [
    "AtomicTask",
    "CompositionalTask",
    "FunctionSpec",
    "OutputRef",
    "Scenario",
    "Step",
    "canonical_json",
    "content_id",
    "union_functions",
]
