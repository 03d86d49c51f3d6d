"""A readable transcript of a trajectory, for notebooks, logs and reviews."""

from __future__ import annotations

import json

from environment.trajectory import Message, Trajectory


def _render(message: Message) -> list[str]:
    lines = []
    if message.thought:
        lines.append(f"  (thinks) {message.thought}")
    for call in message.tool_calls:
        lines.append(f"  -> {call.name}({json.dumps(call.arguments, ensure_ascii=False)})")
    for result in message.tool_results:
        shown = result.error if result.error else json.dumps(result.results, ensure_ascii=False)
        lines.append(f"  <- {result.name}: {shown}")
    if message.content:
        lines.append(f"  {message.content}")
    return lines


def transcript(trajectory: Trajectory) -> str:
    """One block per turn: who spoke, their thought, calls, results and words; then the verdict."""
    lines = []
    for message in trajectory.messages:
        label = "assistant (final)" if message.final else message.role
        lines.append(f"[{label}]")
        lines.extend(_render(message))
    verdict = "kept" if trajectory.kept else f"rejected: {trajectory.reject_reason}"
    lines.append(f"== {trajectory.termination.value}, {verdict}")
    return "\n".join(lines)
