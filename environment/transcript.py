"""A readable transcript of a trajectory, for notebooks, logs, reviews and ``button show``."""

from __future__ import annotations

import json
from collections.abc import Callable

from environment.trajectory import Message, Trajectory

#: Decorates a piece of text by its kind (a role label, "thought", "call", "result", "error",
#: "content", "final", "kept", "rejected", "check"); ``button show`` colours with it, the default leaves text as is.
Style = Callable[[str, str], str]


def plain(kind: str, text: str) -> str:
    return text


def _render(message: Message, style: Style) -> list[str]:
    lines = []
    if message.thought:
        lines.append(style("thought", f"  (thinks) {message.thought}"))
    for call in message.tool_calls:
        lines.append(style("call", f"  -> {call.name}({json.dumps(call.arguments, ensure_ascii=False)})"))
    for result in message.tool_results:
        if result.error:
            lines.append(style("error", f"  <- {result.name}: {result.error}"))
        else:
            lines.append(style("result", f"  <- {result.name}: {json.dumps(result.results, ensure_ascii=False)}"))
    if message.content:
        lines.append(style("final" if message.final else "content", f"  {message.content}"))
    return lines


def transcript(trajectory: Trajectory, style: Style = plain) -> str:
    """One block per turn: who spoke, their thought, calls, results and words; then the verdict
    and, for a rejected trajectory, each failed check with its reason and detail."""
    lines = []
    for message in trajectory.messages:
        label = "assistant (final)" if message.final else message.role
        lines.append(style(message.role, f"[{label}]"))
        lines.extend(_render(message, style))
    if trajectory.kept:
        lines.append(style("kept", f"== {trajectory.termination.value}, kept"))
    else:
        lines.append(style("rejected", f"== {trajectory.termination.value}, rejected: {trajectory.reject_reason}"))
        if trajectory.termination_detail:
            lines.append(style("check", f"   ended: {trajectory.termination_detail}"))
        for check in trajectory.checks:
            if not check.passed:
                detail = f": {check.detail}" if check.detail else ""
                lines.append(style("check", f"   failed check {check.name} ({check.reason}){detail}"))
    return "\n".join(lines)
