"""The top-down phase's records: messages of a conversation, its checks, and the trajectory."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from composition.models import FunctionSpec


class Termination(str, Enum):
    """Why a conversation ended."""

    FINAL_ANSWER = "final_answer"
    MAX_TURNS = "max_turns"
    FORMAT_ERRORS = "too_many_format_errors"
    AGENT_ERROR = "agent_error"
    TIMEOUT = "timeout"
    TRUNCATED = "truncated"
    REFUSAL = "refusal"
    EMPTY_ANSWER = "empty_answer"
    TOOL_SIMULATOR_FAILED = "tool_simulator_failed"


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str
    name: str
    results: Any = None
    error: str | None = None
    feedback: bool = Field(
        default=False,
        description="The environment's answer to an invalid call (kept only with environment.keep_recoveries): "
        "the call was never run, and the assistant corrected it in a later turn.",
    )


class Message(BaseModel):
    """One turn. A tool turn answers every call of the assistant turn before it, in order."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    thought: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    final: bool = Field(default=False, description="True on the assistant's final answer.")
    reasoning: str | None = Field(
        default=None,
        description="The model's hidden reasoning for this turn (<think> blocks, reasoning_content), "
        "set aside by the reader; never part of content or thought.",
    )


class CheckResult(BaseModel):
    """Outcome of one verification check; ``reason`` is a stable code when it fails."""

    name: str
    passed: bool
    reason: str | None = None
    detail: str = ""


class Usage(BaseModel):
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Trajectory(BaseModel):
    """A finished conversation with everything needed to verify and export it."""

    id: str
    task_id: str
    strategy: str = ""
    functions: list[FunctionSpec] = Field(default_factory=list)
    parallel_calls: bool = True
    messages: list[Message] = Field(default_factory=list)
    termination: Termination
    termination_detail: str = ""
    format_errors: int = Field(default=0, description="Assistant turns that broke the call protocol.")
    coercions: int = Field(
        default=0, description='Arguments converted to their declared type (e.g. "5" for an integer) before use.'
    )
    repairs: dict[str, int] = Field(
        default_factory=dict,
        description="Kept assistant turns the reader repaired, by kind (reasoning_block, calls_in_text, call_ids).",
    )
    checks: list[CheckResult] = Field(default_factory=list)
    kept: bool = False
    reject_reason: str | None = None
    usage: dict[str, Usage] = Field(default_factory=dict, description="Per model name.")
    timings: dict[str, float] = Field(
        default_factory=dict,
        exclude=True,
        description="Seconds spent in each role during the run; kept in memory only, so the "
        "serialized trajectory stays identical across reruns.",
    )

    @property
    def calls(self) -> list[ToolCall]:
        """The calls that were run: a recovered call (see ``ToolResult.feedback``) is not one."""
        recovered = self.recovered_call_ids
        return [call for message in self.messages for call in message.tool_calls if call.id not in recovered]

    @property
    def results(self) -> list[ToolResult]:
        """The results of the calls that were run (not the environment's feedback)."""
        return [result for message in self.messages for result in message.tool_results if not result.feedback]

    @property
    def recovered_call_ids(self) -> set[str]:
        """Ids of calls the environment refused and the assistant then corrected (kept with keep_recoveries)."""
        return {result.call_id for message in self.messages for result in message.tool_results if result.feedback}
