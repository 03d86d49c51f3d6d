"""Loopback responders that play the LLM roles, and the hand-built tasks the LLM tests use.

A responder receives the JSON body a real client sent and answers like a model would. The
role is recognised by the ``X-Button-Role`` header the product sends (fake_endpoint.request_role);
the assistant's script advances with the number of assistant turns already in the request, so
it works for both protocols.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autogen_core.models import ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient

from composition.llm.wire import TaggingHttpClient
from fake_endpoint import LoopbackChatServer, Reply, chat_completion, request_role
from agents.protocol import render_calls, render_final
from composition.models import AtomicTask, CompositionalTask, FunctionSpec



def loopback_client(server: LoopbackChatServer, structured_output: bool = True) -> OpenAIChatCompletionClient:
    """The real AutoGen client, pointed at the loopback server, without client-side retries."""
    return OpenAIChatCompletionClient(
        model="loopback-model",
        base_url=server.base_url,
        api_key="test-key",
        max_retries=0,
        include_name_in_message=False,
        http_client=TaggingHttpClient(),  # sends the role header, notes refusals
        model_info=ModelInfo(
            vision=False, function_calling=True, json_output=True, family="unknown", structured_output=structured_output
        ),
    )


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


FIND_AUTHOR = FunctionSpec(
    name="find_book_author",
    description="Look up who wrote a book, by its title.",
    parameters=_object({"title": {"type": "string"}}),
    responses=_object({"author": {"type": "string"}}),
)
BIRTH_DATE = FunctionSpec(
    name="get_birth_date",
    description="The date of birth of a well-known person.",
    parameters=_object({"name": {"type": "string"}}),
    responses=_object({"name": {"type": "string"}, "birth_date": {"type": "string", "format": "date"}}),
)
WEATHER = FunctionSpec(
    name="get_current_weather",
    description="Current weather in a city.",
    parameters=_object({"city": {"type": "string"}}),
    responses=_object({"city": {"type": "string"}, "temperature_c": {"type": "number"}}),
)
FLIGHT = FunctionSpec(
    name="find_flight",
    description="Find the cheapest flight from Berlin to a destination city for tomorrow.",
    parameters=_object({"destination": {"type": "string"}}),
    responses=_object({"flight_number": {"type": "string"}, "destination": {"type": "string"}, "price_eur": {"type": "number"}}),
)

SEQUENTIAL_TASK = CompositionalTask(
    id="task-sequential",
    text="When was the author of The Great Gatsby born?",
    strategy="sequential",
    atomic_tasks=[
        AtomicTask(id="atomic-author", text="Who wrote The Great Gatsby?", functions=[FIND_AUTHOR]),
        AtomicTask(id="atomic-birth", text="When was that author born?", functions=[BIRTH_DATE]),
    ],
    edges=[(0, 1)],
    functions=[FIND_AUTHOR, BIRTH_DATE],
)
PARALLEL_TASK = CompositionalTask(
    id="task-parallel",
    text="Check whether Lisbon or Oslo is warmer right now and find me a flight from Berlin to the warmer one.",
    strategy="parallel_then_sequential",
    atomic_tasks=[
        AtomicTask(id="atomic-lisbon", text="What is the weather in Lisbon right now?", functions=[WEATHER]),
        AtomicTask(id="atomic-oslo", text="What is the weather in Oslo right now?", functions=[WEATHER]),
        AtomicTask(id="atomic-flight", text="Find a flight from Berlin to the warmer of the two cities.", functions=[FLIGHT]),
    ],
    edges=[(0, 2), (1, 2)],
    functions=[WEATHER, FLIGHT],
)

# --- what a model may answer ------------------------------------------------------------------

Results = list[dict[str, Any]]


@dataclass
class Calls:
    """Function calls; ``make`` builds them from the results seen so far."""

    make: Callable[[Results], list[dict[str, Any]]]
    thought: str = ""


@dataclass
class Final:
    make: Callable[[Results], str]
    thought: str = ""


@dataclass
class Ask:
    text: str


@dataclass
class Raw:
    """A reply sent as-is in either protocol: misbehaviour such as empty or cut-off turns."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None


Action = Calls | Final | Ask | Raw


def seen_results(body: dict[str, Any]) -> Results:
    """Results in the conversation so far: native tool messages, or tags-mode JSON result lists."""
    found: Results = []
    for message in body["messages"]:
        if message["role"] == "tool":
            try:  # the controller's feedback ("Error: ...") and a tool's error text are no results
                found.append(json.loads(message["content"]))
            except json.JSONDecodeError:
                continue
        elif message["role"] == "user" and str(message.get("content")).lstrip().startswith("["):
            try:
                entries = json.loads(message["content"])
            except json.JSONDecodeError:
                continue
            if isinstance(entries, list):
                found.extend(entry["results"] for entry in entries if isinstance(entry, dict) and "results" in entry)
    return found


def render(action: Action, body: dict[str, Any]) -> dict[str, Any]:
    """One action as a chat.completion in the protocol the request uses (tools present: native)."""
    native = "tools" in body
    results = seen_results(body)
    if isinstance(action, Raw):
        return chat_completion(action.content, action.tool_calls, finish_reason=action.finish_reason)
    if isinstance(action, Ask):
        return chat_completion(action.text)
    if isinstance(action, Calls):
        calls = action.make(results)
        if native:
            return chat_completion(action.thought or None, calls)
        return chat_completion(render_calls(action.thought, calls))
    answer = action.make(results)
    return chat_completion(answer if native else render_final(action.thought, answer))


@dataclass
class AssistantScript:
    """Plays the assistant: turn k (k assistant turns already in the request) answers actions[k]."""

    actions: list[Action]

    def __call__(self, body: dict[str, Any]) -> Reply:
        turn = sum(1 for message in body["messages"] if message["role"] == "assistant")
        return Reply(render(self.actions[min(turn, len(self.actions) - 1)], body))


@dataclass
class ToolScript:
    """Plays the tool simulator: ``answers[name](arguments)`` is the JSON result (or raw text).

    ``bad_first`` answers the first ``bad_first`` requests with text that is not JSON.
    """

    answers: dict[str, Callable[[dict[str, Any]], Any]]
    bad_first: int = 0
    served: int = 0

    def __call__(self, body: dict[str, Any]) -> Reply:
        self.served += 1
        if self.served <= self.bad_first:
            return Reply(chat_completion("Sure! Here are the results: none"))
        call = json.loads(next(m["content"] for m in body["messages"] if m["role"] == "user"))
        answer = self.answers[call["name"]](call["arguments"])
        return Reply(chat_completion(answer if isinstance(answer, str) else json.dumps(answer)))


@dataclass
class UserScript:
    """Plays the user: the opening request, then the answers in order."""

    opening: str
    answers: list[str] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> Reply:
        turn = sum(1 for message in body["messages"] if message["role"] == "assistant")
        text = self.opening if turn == 0 or not self.answers else self.answers[min(turn, len(self.answers)) - 1]
        return Reply(chat_completion(text))


@dataclass
class Roles:
    """Routes each request by its ``X-Button-Role``; ``judge`` answers every other asker (the
    judge, the bottom-up stages)."""

    assistant: Callable[[dict[str, Any]], Reply] | None = None
    user: Callable[[dict[str, Any]], Reply] | None = None
    tool: Callable[[dict[str, Any]], Reply] | None = None
    judge: Callable[[dict[str, Any]], Reply] | None = None

    def __call__(self, body: dict[str, Any]) -> Reply:
        role = request_role()
        responder = {"user": self.user, "tools": self.tool, "assistant": self.assistant}.get(role, self.judge)
        if responder is None:
            return Reply({"error": {"message": f"no responder for role {role!r}"}}, status=400)
        return responder(body)


# --- plausible scripts for the two tasks --------------------------------------------------------

SEQUENTIAL_TOOLS = ToolScript(
    {
        "find_book_author": lambda a: {"author": "F. Scott Fitzgerald"},
        "get_birth_date": lambda a: {"name": a["name"], "birth_date": "1896-09-24"},
    }
)


def sequential_actions() -> list[Action]:
    return [
        Calls(lambda r: [{"name": "find_book_author", "arguments": {"title": "The Great Gatsby"}}], "First I need the author."),
        Calls(lambda r: [{"name": "get_birth_date", "arguments": {"name": r[-1]["author"]}}], "Now the birth date."),
        Final(lambda r: f"{r[-1]['name']}, the author of The Great Gatsby, was born on {r[-1]['birth_date']}."),
    ]


def weather_tools() -> ToolScript:
    temperatures = {"Lisbon": 21.5, "Oslo": 4.0}
    return ToolScript(
        {
            "get_current_weather": lambda a: {"city": a["city"], "temperature_c": temperatures[a["city"]]},
            "find_flight": lambda a: {"flight_number": "TP 541", "destination": a["destination"], "price_eur": 129.0},
        }
    )


def _warmer(results: Results) -> str:
    weather = [r for r in results if "temperature_c" in r]
    return max(weather, key=lambda r: r["temperature_c"])["city"]


def _weather_call(city: str) -> dict[str, Any]:
    return {"name": "get_current_weather", "arguments": {"city": city}}


def parallel_actions() -> list[Action]:
    """Both weather calls in one turn, then the flight to the warmer city."""
    return [
        Calls(lambda r: [_weather_call("Lisbon"), _weather_call("Oslo")], "The two cities are independent."),
        Calls(lambda r: [{"name": "find_flight", "arguments": {"destination": _warmer(r)}}], "Now the flight."),
        Final(lambda r: f"{_warmer(r)} is warmer; flight {r[-1]['flight_number']} costs {r[-1]['price_eur']} EUR."),
    ]


def one_call_per_turn_actions() -> list[Action]:
    """The same plan with one call per turn (parallel calls off)."""
    return [
        Calls(lambda r: [_weather_call("Lisbon")], "Lisbon first."),
        Calls(lambda r: [_weather_call("Oslo")], "Then Oslo."),
        *parallel_actions()[1:],
    ]
