"""Review workflows as data, and the tiny pure engine that reads them.

Standard library only; nothing here imports the service, the schemas or an I/O library.
The tables live in their own modules (``workflows.entry_review``).
"""

from workflows.engine import (
    GUARD_FAILED,
    REASON_FACT,
    REASON_REQUIRED,
    TRANSITION_NOT_ALLOWED,
    Decision,
    allowed_actions,
    decide,
    required_facts,
)
from workflows.guards import GUARDS
from workflows.mermaid import to_mermaid
from workflows.roles import RoleTag
from workflows.table import (
    Facts,
    Guard,
    GuardRegistry,
    MissingFactsError,
    Transition,
    UnknownStateError,
    Workflow,
    WorkflowDefinitionError,
    WorkflowError,
)

__all__ = [
    "GUARDS",
    "GUARD_FAILED",
    "REASON_FACT",
    "REASON_REQUIRED",
    "TRANSITION_NOT_ALLOWED",
    "Decision",
    "Facts",
    "Guard",
    "GuardRegistry",
    "MissingFactsError",
    "RoleTag",
    "Transition",
    "UnknownStateError",
    "Workflow",
    "WorkflowDefinitionError",
    "WorkflowError",
    "allowed_actions",
    "decide",
    "required_facts",
    "to_mermaid",
]
