"""The world-backed tool simulator: answers each call from the grounded world.

Functions the world serves (every library function, with the library's exact spec) get the world's answer: true facts,
plausible volatile values, the same for the same call everywhere. A call the world cannot
answer (an unknown entity, an impossible request) gets the service's not-found message as an
error result, the way a real API would fail. Functions the world does not serve (e.g. ones a
language model wrote) fall back to schema-driven values, so LLM-written tasks still run.
"""

from __future__ import annotations

import json
from typing import Any

from agents.context import ConversationContext
from agents.offline.schema_tool import SchemaToolSimulator
from composition.distractors import library_functions
from composition.models import FunctionSpec
from composition.world import load_world


class WorldToolSimulator(SchemaToolSimulator):
    """``SchemaToolSimulator`` with the world as the source of results; options: ``world_dir``."""

    def __init__(
        self,
        context: ConversationContext,
        name: str | None = None,
        description: str | None = None,
        world_dir: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(context, name, description, **options)
        self.world = load_world(world_dir)
        self._served = {spec.name: spec for spec in library_functions() if self.world.knows(spec.name)}

    def _respond(self, spec: FunctionSpec, arguments: dict[str, Any], canonical_arguments: str) -> tuple[str, bool]:
        if self._served.get(spec.name) != spec:  # not a library function, or one rewritten under its name
            return super()._respond(spec, arguments, canonical_arguments)
        answer = self.world.call(spec.name, arguments)
        if not answer.found:
            return f"not found: {answer.error}", True
        return json.dumps(answer.result, ensure_ascii=False), False
