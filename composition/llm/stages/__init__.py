"""The LLM stages, one class each; ``composition.source.stages.<name>._target_`` picks the class."""

from composition.llm.stages.atomic import AtomicTaskGeneration
from composition.llm.stages.base import ModelClientProvider, Stage, StageContext
from composition.llm.stages.compose import Composition
from composition.llm.stages.filter import TaskFilter
from composition.llm.stages.functions import FunctionGeneration
from composition.llm.stages.scenarios import ScenarioExpansion, ScenarioExtraction

#: The pipeline's stages in order, by the name they are configured and counted under.
DEFAULT_STAGES: dict[str, type[Stage]] = {
    stage.name: stage
    for stage in (ScenarioExtraction, ScenarioExpansion, AtomicTaskGeneration, Composition, TaskFilter, FunctionGeneration)
}

__all__ = [
    "DEFAULT_STAGES",
    "AtomicTaskGeneration",
    "Composition",
    "FunctionGeneration",
    "ModelClientProvider",
    "ScenarioExpansion",
    "ScenarioExtraction",
    "Stage",
    "StageContext",
    "TaskFilter",
]
