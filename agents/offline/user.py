"""The scripted user: states the compositional task in a human voice and answers questions from it."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken

from agents.base import UserRole
from agents.context import ConversationContext

OPENERS = (
    "Hi! {task}",
    "Hello, could you help me with something? {task}",
    "Hey there. {task}",
    "Good morning! {task}",
    "{task} Thanks in advance!",
    "I could use a hand. {task}",
)
ANSWER_PREFIXES = ("Sure.", "Of course:", "As I said,", "Right, so:")
THANKS = "Thanks, that is all I needed."
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class ScriptedUser(UserRole):
    """Opens with the task text; answers an assistant question with the best-matching sentence.

    It knows only the task text, never the functions. Offline roles take no options: extra
    keyword options (e.g. an LLM role's model settings left in a config) are ignored.
    """

    def __init__(
        self, context: ConversationContext, name: str | None = None, description: str | None = None, **options: Any
    ) -> None:
        super().__init__(context, name, description)
        self._start()

    def _start(self) -> None:
        self._rng = random.Random(f"user:{self.context.seed}:{self.context.task.id}")
        self._opened = False

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        if not self._opened:
            self._opened = True
            return self._say(self._rng.choice(OPENERS).format(task=self.context.task.text.strip()))
        questions = [m for m in messages if isinstance(m, TextMessage) and m.source != self.name]
        if not questions:
            return self._say(THANKS)
        return self._say(f"{self._rng.choice(ANSWER_PREFIXES)} {self._best_sentence(questions[-1].content)}")

    def _best_sentence(self, question: str) -> str:
        """The task sentence sharing the most words with the question (the first on ties)."""
        asked = set(_WORD.findall(question.lower()))
        sentences = _SENTENCE.split(self.context.task.text.strip())
        return max(sentences, key=lambda sentence: len(asked & set(_WORD.findall(sentence.lower()))))

    def _say(self, text: str) -> Response:
        return Response(chat_message=TextMessage(content=text, source=self.name))
