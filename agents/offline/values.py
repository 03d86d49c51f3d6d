"""Schema-driven value generation: realistic, deterministic JSON values that obey a JSON Schema.

The offline tool simulator answers calls with these. Values follow the schema's keywords
(type, enum, const, format, bounds, lengths, array sizes, required properties, allOf/anyOf/
oneOf, local ``$ref``) and, where the schema leaves freedom, a hint taken from the property
name ("author" -> a person's name, "city" -> a city, "price" -> an amount). Randomness comes
only from the ``random.Random`` passed in, so a seeded generator gives the same value every time.
A string that misses its ``pattern`` is redrawn from the regular expression itself
(``patterns.string_matching``); look-arounds are beyond it, and such a value is reported by the
verifier as invalid results.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from agents.offline.patterns import string_matching
from composition.ids import canonical_json

Producer = Callable[[random.Random, frozenset[str]], Any]
"""Makes a value from the generator and the property name's hint words."""

FIRST_NAMES = [
    "Amelia", "Bruno", "Chiara", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Pablo", "Priya", "Rafael", "Sofia", "Tomas",
]
LAST_NAMES = [
    "Andersen", "Baptiste", "Chen", "Dubois", "Eriksson", "Fernandes", "Garcia", "Haddad",
    "Ivanova", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi",
    "Schmidt", "Tanaka", "Vargas", "Williams",
]
CITIES = [
    "Lisbon", "Osaka", "Toronto", "Nairobi", "Melbourne", "Barcelona", "Vienna", "Seoul",
    "Denver", "Prague", "Cape Town", "Montreal", "Edinburgh", "Santiago", "Hanoi", "Oslo",
]
COUNTRIES = [
    "Portugal", "Japan", "Canada", "Kenya", "Australia", "Spain", "Austria", "South Korea",
    "Czechia", "Chile", "Vietnam", "Norway", "Mexico", "Brazil", "Ireland", "New Zealand",
]
TIMEZONES = ["Europe/Lisbon", "Asia/Tokyo", "America/Toronto", "Africa/Nairobi", "Australia/Melbourne", "Europe/Oslo"]
CURRENCY_CODES = ["USD", "EUR", "JPY", "GBP", "CAD", "AUD", "CHF", "NOK", "BRL", "KRW"]
LANGUAGES = ["English", "Spanish", "Japanese", "French", "German", "Portuguese", "Korean", "Italian"]
TITLE_WORDS = [
    "Silent", "River", "Garden", "Midnight", "Harbor", "Glass", "Northern", "Orchard", "Echo",
    "Lantern", "Summer", "Stone", "Winter", "Crimson", "Letters", "Tides",
]
COMPANIES = [
    "Northwind Labs", "Bluepeak Foods", "Harbor & Co", "Lumen Health", "Tallgrass Outfitters",
    "Quayside Travel", "Brightway Books", "Summit Motors", "Fernleaf Market", "Corvid Systems",
]
AIRLINES = ["SkyBridge Air", "Pacific Crest", "Nordic Wings", "Andes Airways", "Coral Jet"]
AIRPORT_CODES = ["LIS", "KIX", "YYZ", "NBO", "MEL", "BCN", "VIE", "ICN", "DEN", "PRG"]
STREETS = ["Maple Street", "Harbor Road", "Elm Avenue", "Station Lane", "Market Square", "Park Drive"]
GENRES = ["mystery", "science fiction", "drama", "comedy", "jazz", "fantasy", "documentary", "folk"]
CUISINES = ["Italian", "Thai", "Mexican", "Japanese", "Lebanese", "Indian", "Greek", "Ethiopian"]
COLORS = ["red", "blue", "green", "black", "white", "silver", "navy", "olive"]
CONDITIONS = ["sunny", "partly cloudy", "overcast", "light rain", "thunderstorms", "snow", "windy"]
STATUSES = ["confirmed", "pending", "available", "completed", "scheduled"]
TEAMS = ["Harbor City FC", "Northside Rovers", "Valley Hawks", "Coastal Comets", "Summit United"]
SPORTS = ["football", "basketball", "tennis", "cycling", "swimming", "volleyball"]
NOUNS = ["plan", "option", "item", "record", "service", "package", "offer", "entry"]
ADJECTIVES = ["standard", "premium", "basic", "classic", "local", "express", "seasonal", "family"]
SENTENCES = [
    "Well reviewed by recent visitors.",
    "Popular choice during the weekend.",
    "Includes free cancellation up to a day before.",
    "Recommended for first-time customers.",
    "Availability may change at short notice.",
    "Updated with the latest information available.",
]


def _person(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _title(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    first, second = rng.sample(TITLE_WORDS, 2)
    return f"The {first} {second}"


def _date_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _date(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    if tokens & {"birth", "born", "birthday", "dob"}:
        return _date_between(rng, date(1925, 1, 1), date(2000, 12, 31)).isoformat()
    if tokens & {"founded", "published", "released", "release", "established", "built"}:
        return _date_between(rng, date(1950, 1, 1), date(2023, 12, 31)).isoformat()
    return _date_between(rng, date(2025, 1, 1), date(2026, 12, 31)).isoformat()


def _clock(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    return f"{rng.randint(6, 22):02d}:{rng.choice((0, 15, 30, 45)):02d}"


def _identifier(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    return f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}-{rng.randint(1000, 99999)}"


def _slug(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"


def _email(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    return f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES).lower()}@example.com"


def _url(rng: random.Random, tokens: frozenset[str] = frozenset()) -> str:
    return f"https://www.example.com/{_slug(rng)}"


def _pick(words: list[str]) -> Producer:
    return lambda rng, tokens: rng.choice(words)


# (tokens that trigger it, producer). Earlier rules win, so specific words come before the
# generic "name" that many property names end with.
STRING_HINTS: list[tuple[frozenset[str], Producer]] = [
    (frozenset({"email", "mail"}), _email),
    (frozenset({"url", "website", "link", "homepage", "uri"}), _url),
    (frozenset({"phone", "telephone", "mobile"}), lambda r, t: f"+1-555-{r.randint(100, 999)}-{r.randint(1000, 9999)}"),
    (frozenset({"currency"}), _pick(CURRENCY_CODES)),
    (frozenset({"airport", "iata"}), _pick(AIRPORT_CODES)),
    (frozenset({"airline", "carrier"}), _pick(AIRLINES)),
    (frozenset({"country", "nationality"}), _pick(COUNTRIES)),
    (
        frozenset({"city", "town", "destination", "origin", "location", "capital", "hometown", "venue",
                   "birthplace", "place", "region"}),
        _pick(CITIES),
    ),
    (frozenset({"timezone", "tz", "zone"}), _pick(TIMEZONES)),
    (frozenset({"language", "lang"}), _pick(LANGUAGES)),
    (frozenset({"address", "street"}), lambda r, t: f"{r.randint(1, 250)} {r.choice(STREETS)}"),
    (frozenset({"zip", "postal", "postcode"}), lambda r, t: f"{r.randint(10000, 99999)}"),
    (frozenset({"date", "birthday", "deadline", "day", "dob"}), _date),
    (frozenset({"time", "departure", "arrival", "opens", "closes"}), _clock),
    (
        frozenset({"company", "employer", "brand", "manufacturer", "store", "shop", "restaurant", "hotel",
                   "publisher", "provider", "organization", "vendor"}),
        _pick(COMPANIES),
    ),
    (frozenset({"genre", "category"}), _pick(GENRES)),
    (frozenset({"cuisine"}), _pick(CUISINES)),
    (frozenset({"color", "colour"}), _pick(COLORS)),
    (frozenset({"condition", "weather", "forecast"}), _pick(CONDITIONS)),
    (frozenset({"status", "state"}), _pick(STATUSES)),
    (frozenset({"team", "club"}), _pick(TEAMS)),
    (frozenset({"sport"}), _pick(SPORTS)),
    (
        frozenset({"title", "book", "movie", "film", "song", "album", "show", "novel", "course", "recipe",
                   "dish", "event"}),
        _title,
    ),
    (frozenset({"id", "code", "number", "reference", "confirmation", "booking", "isbn", "sku"}), _identifier),
    (
        frozenset({"description", "summary", "note", "text", "review", "message", "comment", "details",
                   "advice", "tip", "instructions"}),
        _pick(SENTENCES),
    ),
    (
        frozenset({"author", "director", "artist", "person", "owner", "contact", "doctor", "player", "customer",
                   "guest", "composer", "singer", "writer", "actor", "manager", "coach", "instructor", "host",
                   "name", "who"}),
        _person,
    ),
]

# (tokens, (low, high, decimals)) for numbers; decimals 0 means whole numbers.
NUMBER_HINTS: list[tuple[frozenset[str], tuple[float, float, int]]] = [
    (frozenset({"year", "founded", "published"}), (1950, 2025, 0)),
    (frozenset({"latitude", "lat"}), (-60, 70, 4)),
    (frozenset({"longitude", "lon", "lng"}), (-170, 170, 4)),
    (frozenset({"rating", "stars", "score"}), (1, 5, 1)),
    (frozenset({"temperature", "temp", "celsius"}), (-5, 34, 1)),
    (frozenset({"age"}), (18, 90, 0)),
    (frozenset({"percent", "percentage", "humidity", "probability", "chance", "rate"}), (0, 100, 1)),
    (frozenset({"population"}), (10_000, 9_000_000, 0)),
    (frozenset({"calories", "kcal"}), (50, 900, 0)),
    (frozenset({"price", "cost", "amount", "fee", "total", "salary", "balance", "budget", "fare", "payment", "income", "revenue"}), (5, 2000, 2)),
    (frozenset({"distance", "km", "miles", "kilometers"}), (1, 1500, 1)),
    (frozenset({"duration", "minutes", "hours", "days", "nights", "weeks"}), (1, 48, 0)),
    (frozenset({"count", "quantity", "guests", "people", "passengers", "pages", "seats", "rooms", "number"}), (1, 12, 0)),
]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=4096)
def hint_tokens(name: str) -> frozenset[str]:
    """Lower-case words of a property name: ``departureCity`` and ``departure_city`` both give
    {"departure", "city"}; a plural list name also yields its singular ("authors" -> "author")."""
    words = re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower())
    tokens = {word for word in words if word}
    tokens |= {word[:-1] for word in tokens if len(word) > 3 and word.endswith("s")}
    return frozenset(tokens)


def _first_match(tokens: frozenset[str], table: list[tuple[frozenset[str], Any]]) -> Any:
    for keywords, value in table:
        if tokens & keywords:
            return value
    return None


class SchemaValueGenerator:
    """Produces a value for a schema; ``root`` resolves local ``$ref`` pointers."""

    max_depth = 8

    def __init__(self, rng: random.Random, root: dict[str, Any]) -> None:
        self.rng = rng
        self.root = root

    def value(self, schema: Any, hint: str = "", depth: int = 0) -> Any:
        if schema is True or schema == {} or not isinstance(schema, dict):
            return self._string({}, hint_tokens(hint))
        if "$ref" in schema:
            return self.value(self._resolve(schema), hint, depth + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        if "allOf" in schema:
            return self.value(_merge_all_of(schema), hint, depth + 1)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                options = [option for option in schema[key] if _schema_type(option) != "null"] or schema[key]
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value({**rest, **options[0]}, hint, depth + 1)
        kind = _schema_type(schema)
        tokens = hint_tokens(hint)
        if depth >= self.max_depth and kind in ("object", "array"):
            return {} if kind == "object" else []
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, hint, depth)
        if kind in ("integer", "number"):
            return self._number(schema, tokens, integer=kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self._string(schema, tokens)

    def _resolve(self, schema: dict[str, Any]) -> Any:
        reference = schema["$ref"]
        if not reference.startswith("#"):
            raise ValueError(f"only local $ref pointers are supported, got {reference!r}")
        node: Any = self.root
        for part in filter(None, reference[1:].split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        result = {name: self.value(sub, name, depth + 1) for name, sub in properties.items()}
        extra = schema.get("additionalProperties", True)
        index = 0
        while len(result) < schema.get("minProperties", 0) and extra is not False:
            index += 1
            name = f"extra_{index}"
            result[name] = self.value(extra if isinstance(extra, dict) else {"type": "string"}, name, depth + 1)
        return result

    def _array(self, schema: dict[str, Any], hint: str, depth: int) -> list[Any]:
        low = schema.get("minItems", 0)
        high = schema.get("maxItems", max(low, 3))
        size = min(max(self.rng.randint(1, 3), low), high)
        prefix = schema.get("prefixItems", [])
        items = schema.get("items", {})
        unique = schema.get("uniqueItems", False)
        values: list[Any] = []
        seen: set[str] = set()
        attempts = 0
        while len(values) < size and attempts < size * 8:
            attempts += 1
            position = len(values)
            sub = prefix[position] if position < len(prefix) else items
            value = self.value(sub, hint, depth + 1)
            key = canonical_json(value)
            if unique and key in seen:
                continue
            seen.add(key)
            values.append(value)
        return values

    def _number(self, schema: dict[str, Any], tokens: frozenset[str], integer: bool) -> int | float:
        low, high, decimals = _first_match(tokens, NUMBER_HINTS) or ((1, 100, 0) if integer else (1, 500, 2))
        lower, upper = _bounds(schema)
        hinted = (low if lower is None else max(low, lower), high if upper is None else min(high, upper))
        if lower is None:
            lower = 0 if upper is None else upper - 100
        bounded = (lower, upper if upper is not None else lower + 100)
        for span in (hinted, bounded):  # the hint's range may miss the schema's bounds entirely
            value = self._number_in(*span, schema, integer, decimals)
            if value is not None:
                return value
        return lower  # the bounds admit no value at all

    def _number_in(
        self, low: float, high: float, schema: dict[str, Any], integer: bool, decimals: int
    ) -> int | float | None:
        if low > high:
            return None
        step = schema.get("multipleOf")
        if step:
            first, last = math.ceil(low / step), math.floor(high / step)
            candidates = [self.rng.randint(first, last)] if first <= last else []
            for multiple in candidates + list(range(first, min(last, first + 8) + 1)):
                value = multiple * step
                value = int(round(value)) if float(value).is_integer() else round(value, 10)
                if _within(value, schema) and _is_multiple(value, step) and not (integer and isinstance(value, float)):
                    return value
            return None
        if integer or decimals == 0:
            whole_low, whole_high = math.ceil(low), math.floor(high)
            whole_low += 0 if _within(whole_low, schema) else 1  # an exclusive bound excludes itself
            whole_high -= 0 if _within(whole_high, schema) else 1
            if whole_low <= whole_high:
                return self.rng.randint(whole_low, whole_high)
            if integer:
                return None
        raw = self.rng.uniform(low, high)
        return next(
            (value for value in (round(raw, decimals or 2), raw, (low + high) / 2) if _within(value, schema)), None
        )

    def _string(self, schema: dict[str, Any], tokens: frozenset[str]) -> str:
        text = _formatted(schema.get("format"), self.rng, tokens)
        if text is not None:
            return text  # lengths are not applied: cutting a date or an email would break it
        producer = _first_match(tokens, STRING_HINTS)
        text = producer(self.rng, tokens) if producer else f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}"
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if len(text) < low:
            text += "".join(self.rng.choice(string.ascii_lowercase) for _ in range(low - len(text)))
        if high is not None and len(text) > high:
            text = text[:high]
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, text):
            text = string_matching(pattern, self.rng) or text
        return text


def _formatted(fmt: str | None, rng: random.Random, tokens: frozenset[str]) -> str | None:
    if fmt == "date":
        return _date(rng, tokens)
    if fmt == "date-time":
        return f"{_date(rng, tokens)}T{_clock(rng)}:00Z"
    if fmt == "time":
        return f"{_clock(rng)}:00Z"
    if fmt in ("email", "idn-email"):
        return _email(rng)
    if fmt in ("uri", "url", "iri", "uri-reference"):
        return _url(rng)
    if fmt == "uuid":
        return "-".join("".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12))
    if fmt in ("hostname", "idn-hostname"):
        return f"{_slug(rng)}.example.com"
    if fmt == "ipv4":
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return None


def _schema_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "string"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind:
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(key in schema for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
        return "number"
    return "string"


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    """Shallow merge of allOf parts: properties are united, required lists joined."""
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", []), *value})
            else:
                merged.setdefault(key, value)
    return merged


def _bounds(schema: dict[str, Any]) -> tuple[float | None, float | None]:
    lower = [schema[k] for k in ("minimum", "exclusiveMinimum") if isinstance(schema.get(k), (int, float))]
    upper = [schema[k] for k in ("maximum", "exclusiveMaximum") if isinstance(schema.get(k), (int, float))]
    return (max(lower) if lower else None, min(upper) if upper else None)


def _within(value: float, schema: dict[str, Any]) -> bool:
    checks = (
        ("minimum", lambda bound: value >= bound),
        ("maximum", lambda bound: value <= bound),
        ("exclusiveMinimum", lambda bound: value > bound),
        ("exclusiveMaximum", lambda bound: value < bound),
    )
    return all(test(schema[key]) for key, test in checks if isinstance(schema.get(key), (int, float)))


def _is_multiple(value: float, step: float) -> bool:
    """The same test jsonschema applies, so a value we accept is one it accepts."""
    if isinstance(step, float) or isinstance(value, float):
        quotient = value / step
        return quotient == int(quotient)
    return value % step == 0


def generate_value(schema: dict[str, Any], rng: random.Random, hint: str = "") -> Any:
    """A value valid against ``schema`` (see the module docstring for what is supported)."""
    return SchemaValueGenerator(rng, schema).value(schema, hint)
