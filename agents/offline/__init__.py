"""Offline roles: deterministic stand-ins for the LLM roles, needing no model and no network.

They are structural simulators for dry runs, tests, benchmarks and gold plans: the scripted
user states the task, the oracle assistant executes the task's gold DAG, and the schema tool
simulator returns schema-valid results.
"""

from agents.offline.oracle import OracleAssistant, PlanError
from agents.offline.schema_tool import SchemaToolSimulator
from agents.offline.user import ScriptedUser

__all__ = ["OracleAssistant", "PlanError", "SchemaToolSimulator", "ScriptedUser"]
