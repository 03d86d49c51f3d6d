"""A ChatCompletionClient that wraps another and passes through everything it does not change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autogen_core.models import ChatCompletionClient, LLMMessage, ModelInfo, RequestUsage
from autogen_core.tools import Tool, ToolSchema


class WrappedClient(ChatCompletionClient):
    """Base of our client layers (limits and retries, metering): subclasses override create."""

    def __init__(self, inner: ChatCompletionClient) -> None:
        self.inner = inner

    async def close(self) -> None:
        await self.inner.close()

    def actual_usage(self) -> RequestUsage:
        return self.inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self.inner.total_usage()

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.inner.count_tokens(messages, tools=tools)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.inner.remaining_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> Any:  # deprecated in AutoGen, still abstract
        return self.inner.capabilities  # type: ignore[attr-defined]

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info
