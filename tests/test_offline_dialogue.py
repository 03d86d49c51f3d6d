"""Offline conversations that teach more than one straight line: a user who leaves a detail
out until asked, and tool lists with distractors."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from omegaconf import OmegaConf

from agents.offline.oracle import OracleAssistant
from agents.offline.user import ScriptedUser
from agents.offline.world_tool import WorldToolSimulator
from button.api import compose_config
from button.settings import validate_settings
from composition.errors import ConfigurationError
from composition.offline import LibraryTaskSource
from environment.controller import EnvironmentController
from environment.trajectory import Termination


def library_tasks(count: int, seed: int = 11):
    strategies = {"sequential": 1.0, "parallel_then_sequential": 1.0}
    source = LibraryTaskSource(strategies=strategies, composition={"max_chain_length": 3}, seed=seed)

    async def collect():
        return [task async for task in source.generate(count) if task.kept]

    return asyncio.run(collect())


def play(task, **settings):
    controller = EnvironmentController(
        partial(ScriptedUser, withhold_share=settings.pop("withhold_share", 0.0)), OracleAssistant, WorldToolSimulator, **settings
    )
    return asyncio.run(controller.run(task))


def test_a_user_who_leaves_a_detail_out_is_asked_for_it_and_gives_it():
    asked = 0
    for task in library_tasks(12):
        trajectory = play(task, withhold_share=1.0)
        assert trajectory.termination is Termination.FINAL_ANSWER
        roles = [m.role for m in trajectory.messages]
        if roles[:3] != ["user", "assistant", "user"]:
            continue  # this task states no detail after a preposition, so nothing was withheld
        asked += 1
        opening, question, reply = trajectory.messages[:3]
        assert question.content.endswith("?") and not question.tool_calls
        given = reply.content.casefold()
        literals = [str(v).casefold() for a in task.atomic_tasks for v in a.step.arguments.values() if isinstance(v, str)]
        withheld = [value for value in literals if value not in opening.content.casefold()]
        assert withheld and any(value in given for value in withheld), (opening.content, reply.content)
        first_call = next(m for m in trajectory.messages if m.tool_calls)
        assert trajectory.messages.index(first_call) == 3  # the plan starts once the detail is known
    assert asked >= 4


def test_no_user_withholds_anything_by_default():
    for task in library_tasks(6):
        roles = [m.role for m in play(task).messages]
        assert roles.count("user") == 1


def test_distractor_tools_join_the_tool_list_and_stay_unused():
    task = library_tasks(1)[0]
    trajectory = play(task, distractor_tools=3, seed=5)
    own = {spec.name for spec in task.functions}
    offered = [spec.name for spec in trajectory.functions]
    assert offered[: len(task.functions)] == [spec.name for spec in task.functions]
    extra = set(offered) - own
    assert len(extra) == 3 and not extra & {call.name for call in trajectory.calls}
    again = play(task, distractor_tools=3, seed=5)
    assert [spec.name for spec in again.functions] == offered  # the same per seed and task


def test_bad_shares_and_counts_are_refused_before_anything_runs():
    bad = (("agents.user.withhold_share=1.5", "withhold_share"), ("environment.distractor_tools=-2", "distractor_tools"))
    for override, field in bad:
        config = OmegaConf.to_container(compose_config([override]), resolve=False)
        with pytest.raises(ConfigurationError, match=field):
            validate_settings(config)
