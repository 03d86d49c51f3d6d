"""Language-model twins of the offline roles: a simulated user, an assistant and a tool simulator.

Each role talks to its own ``ChatCompletionClient`` and reads its prompt from ``prompts/`` at
run time; pick them with ``agents/user=llm``, ``agents/assistant=llm`` and ``agents/tool=llm``.
"""

from agents.llm.assistant import LLMAssistant
from agents.llm.tool import LLMToolSimulator
from agents.llm.user import LLMUser

__all__ = ["LLMAssistant", "LLMToolSimulator", "LLMUser"]
