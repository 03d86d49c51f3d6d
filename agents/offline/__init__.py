"""Offline roles: deterministic stand-ins for the LLM roles, needing no model and no network.

They are structural simulators for dry runs, tests, benchmarks and gold plans: the scripted
user states the task, the oracle assistant executes the task's gold DAG, and the tool simulator
answers from the grounded world (``composition.world``: true facts, plausible volatile values)
or, for functions the world does not serve, with schema-valid values.
"""

from agents.offline.oracle import OracleAssistant, PlanError
from agents.offline.schema_tool import SchemaToolSimulator
from agents.offline.user import ScriptedUser
from agents.offline.world_tool import WorldToolSimulator

__all__ = ["OracleAssistant", "PlanError", "SchemaToolSimulator", "ScriptedUser", "WorldToolSimulator"]
