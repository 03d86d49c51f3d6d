"""Add a role by subclassing and pointing a config's ``_target_`` at it; nothing else changes.

``BusyUser`` opens like the scripted user, then asks for a short answer. Run it with

    python examples/custom_role.py [RUN_DIR]

or, from a shell, ``PYTHONPATH=examples button agents.user._target_=custom_role.BusyUser``.
The same works for the assistant and the tool simulator (subclass ``agents.base.AssistantRole``
or ``ToolRole``, or one of their offline and LLM implementations).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken

from agents.offline.user import ScriptedUser
from button.api import run_pipeline
from button.closing import stats_table

HURRY = "I'm in a hurry, so please keep the answer short."


class BusyUser(ScriptedUser):
    """A user in a hurry: the opening message asks for a short answer."""

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        response = await super().on_messages(messages, cancellation_token)
        if not messages and isinstance(response.chat_message, TextMessage):
            response.chat_message.content = f"{response.chat_message.content} {HURRY}"
        return response


def main(run_dir: str) -> None:
    target = f"{BusyUser.__module__}.{BusyUser.__qualname__}"
    stats = run_pipeline(run_dir, ["num_tasks=5", f"agents.user._target_={target}"])
    print(stats_table(stats))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "outputs/custom-role")
