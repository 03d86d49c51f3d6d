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
from agents.offline.phrasing import Phrasing

QUESTION_WORDS = frozenset(
    {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "in", "on", "at", "is", "are", "does", "do", "can"}
)
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class ScriptedUser(UserRole):
    """Opens with the task text in one of many framings (``phrases/user.json``, chosen per seed
    and task); answers an assistant question with the best-matching sentence of the task.

    With ``withhold_share`` > 0, that share of users (chosen per seed and task) leave one
    detail out ("the capital of a country") and give it when the assistant asks.

    It knows only the task text, never the functions. Other keyword options (e.g. an LLM
    role's model settings left in a config) are ignored.
    """

    def __init__(
        self,
        context: ConversationContext,
        name: str | None = None,
        description: str | None = None,
        withhold_share: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__(context, name, description)
        if not 0.0 <= withhold_share <= 1.0:
            raise ValueError(f"withhold_share must be between 0 and 1, got {withhold_share}")
        self._withhold_share = withhold_share
        self._start()

    def _start(self) -> None:
        self._words = Phrasing("user", random.Random(f"user:{self.context.seed}:{self.context.task.id}"))
        self._opened = False
        self._withheld = self._pick_withheld() if self._words.rng.random() < self._withhold_share else None
        self._told = False

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        if not self._opened:
            self._opened = True
            question = self._vague(self.context.task.text.strip())
            request = self._request()
            framed = (
                self._words.say("openers", task=question, ask=_embedded(question))
                if request is None
                else self._words.say("request_openers", task=request)
            )
            parts = (self._words.say("greetings"), framed, self._words.say("closers"))
            return self._say(" ".join(part for part in parts if part))
        questions = [m for m in messages if isinstance(m, TextMessage) and m.source != self.name]
        if not questions:
            return self._say(self._words.say("thanks"))
        if self._withheld is not None and not self._told:
            self._told = True
            return self._say(self._words.say("detail_answers", detail=self._withheld[0]))
        return self._say(f"{self._words.say('answer_prefixes')} {self._best_sentence(questions[-1].content)}")

    def _request(self) -> str | None:
        """About 60% of the time, a request for the thing the last sub-task names ("Could you
        find the capital of Peru?") instead of the task's own question; None means the question.
        A comparison or sum is always asked as its question: nobody asks to "look up the larger
        of" two things."""
        last = self.context.task.atomic_tasks[-1]
        if not last.reference or last.text != self.context.task.text or self._words.rng.random() < 0.4:
            return None  # a task written apart from its last step may hold details its reference lacks
        if last.step is not None and last.step.operation is not None:
            return None
        return self._vague(self._words.say("requests", ref=last.reference))

    def _pick_withheld(self) -> tuple[str, str] | None:
        """(value, vague phrase) of one literal argument the task states right after a
        preposition ("the capital of Japan"), so it can be left out and given when asked."""
        vague = self._words.book["vague"]
        text = self.context.task.text
        options = [
            (value, vague[name])
            for task in self.context.task.atomic_tasks if task.step is not None
            for name, value in task.step.arguments.items()
            if isinstance(value, str) and name in vague and _after_preposition(value).search(text)
        ]
        return self._words.rng.choice(options) if options else None

    def _vague(self, text: str) -> str:
        """``text`` with the withheld value replaced by its vague phrase."""
        if self._withheld is None:
            return text
        value, phrase = self._withheld
        return _after_preposition(value).sub(lambda match: f"{match.group(1)} {phrase}", text, count=1)

    def _best_sentence(self, question: str) -> str:
        """The task sentence sharing the most words with the question (the first on ties)."""
        asked = set(_WORD.findall(question.lower()))
        sentences = _SENTENCE.split(self.context.task.text.strip())
        return max(sentences, key=lambda sentence: len(asked & set(_WORD.findall(sentence.lower()))))

    def _say(self, text: str) -> Response:
        return Response(chat_message=TextMessage(content=text, source=self.name))


def _after_preposition(value: str) -> re.Pattern[str]:
    return re.compile(rf"\b(of|in|from|to|by|at|for|on|does|did) {re.escape(value)}(?![\w-])")


def _embedded(question: str) -> str:
    """The question as it reads inside a sentence ("Quick question: what is ..."): a leading
    question word loses its capital; anything else (a name) keeps it."""
    first = question.split(maxsplit=1)[0] if question else ""
    return question[:1].lower() + question[1:] if first.casefold() in QUESTION_WORDS else question
