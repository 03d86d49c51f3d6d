"""The world: entities loaded from ``data/``, indexed by name, answering library functions.

``load_world()`` reads and checks the data files once per process (cached) and builds the
invented local businesses every city has (a hotel, restaurants, a pharmacy, ...), each with
exactly one home. ``World.call(function, arguments)`` answers a call the way the function's
service would: a result dict that obeys the function's ``responses`` schema, or a not-found
answer naming what is unknown. It is pure and cheap (no I/O, no state, no seed): the same
call gives the same answer in every conversation, run and shard.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from composition.errors import ConfigurationError, field_problems
from composition.ids import canonical_json
from composition.world import models as m
from composition.world.synthetic import Draw

E = TypeVar("E", bound=m.Entity)


class WorldError(ConfigurationError):
    """A world data file is unreadable or inconsistent; the message names file and entry."""


class NotFound(Exception):
    """Raised by a service when the world has no answer; the message is what the service says."""


class ToolAnswer(BaseModel):
    """What a service answers: ``result`` when ``found``, else an ``error`` sentence."""

    model_config = ConfigDict(frozen=True)

    function: str
    found: bool
    result: dict[str, Any] | None = None
    error: str | None = None


def normalize(name: str) -> str:
    """The lookup key of a name: no accents, case or repeated spaces, no leading 'the'."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(char for char in text if not unicodedata.combining(char))
    words = text.casefold().replace("’", "'").split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


class Table(Generic[E]):
    """Entities of one kind, found by name or alias."""

    def __init__(self, kind: str, entities: Iterable[E], keys: Callable[[E], tuple[str, ...]] | None = None) -> None:
        self.kind = kind
        self.items: tuple[E, ...] = tuple(entities)
        self._keys = keys or (lambda entity: (entity.name, *entity.aliases))
        self._index: dict[str, E] = {}
        for entity in self.items:
            for name in self._keys(entity):
                key = normalize(name)
                other = self._index.get(key)
                if other is not None and other is not entity:
                    raise WorldError(f"{kind}: the name {name!r} belongs to both {other.name!r} and {entity.name!r}")
                self._index[key] = entity

    def get(self, name: Any) -> E | None:
        return self._index.get(normalize(name)) if isinstance(name, str) else None

    def find(self, name: Any, what: str | None = None) -> E:
        """The entity called ``name``, or NotFound saying so the way a service would."""
        entity = self.get(name)
        if entity is None:
            raise NotFound(f"No {what or self.kind} named {name!r} was found.")
        return entity

    @property
    def names(self) -> tuple[str, ...]:
        """How each entity is usually written (an airport by its code)."""
        return tuple(self._keys(entity)[0] for entity in self.items)


class World:
    """All tables plus the facts that are not entities (rates, lists); see ``call``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["world"]["version"]
        self.today: date = date.fromisoformat(data["world"]["today"])
        places, culture, business = data["places"], data["culture"], data["business"]
        sports, education, living, invented = data["sports"], data["education"], data["living"], data["invented"]
        self.markets: dict[str, Any] = data["markets"]
        self.countries = _table("country", m.Country, places["countries"])
        self.cities = _table("city", m.City, places["cities"])
        self.airports = _table("airport", m.Airport, places["airports"], keys=lambda airport: (airport.code,))
        flights = places["flights"]
        self.flights = _table("flight", m.Flight, [{**_renamed(f, "number"), "invented": flights["invented"]} for f in flights["items"]])
        self.people = _table("person", m.Person, culture["people"])
        self.books = _table("book", m.Book, [_renamed(b, "title") for b in culture["books"]])
        self.novels: dict[str, tuple[str, ...]] = {normalize(k): tuple(v) for k, v in culture["novels"].items()}
        self.films = _table("film", m.Film, [_renamed(f, "title") for f in culture["films"]])
        self.filmographies: dict[str, tuple[str, ...]] = {normalize(k): tuple(v) for k, v in culture["filmographies"].items()}
        self.streaming = _table("streaming service", m.StreamingService, culture["streaming_services"])
        self.musicians = _table("musician", m.Entity, [{"name": n} for n in culture["musicians"]])
        self.companies = _table("company", m.Company, business["companies"])
        self.products = _table("product", m.Product, business["products"])
        self.categories = _table("product category", m.Entity, [{"name": n} for n in business["categories"]])
        appliances = business["appliances"]
        self.appliances = _table("appliance", m.Appliance, [{**a, "invented": appliances["invented_figures"]} for a in appliances["items"]])
        self.appliance_types: dict[str, Any] = appliances["types"]
        self.leagues: dict[str, Any] = sports["leagues"]
        self.teams = _table("team", m.Team, sports["teams"])
        self.venues = _table("venue", m.Venue, sports["venues"])
        self.players = _table("athlete", m.Player, sports["players"])
        self.universities = _table("university", m.University, education["universities"])
        self.courses = _table("course", m.Course, education["courses"])
        self.cuisines: dict[str, Any] = living["cuisines"]
        self.cuisine_names = _table("cuisine", m.Entity, [{"name": n} for n in living["cuisines"]])
        self.home_cuisine: dict[str, str] = living["home_cuisine"]
        self.dishes = _table("dish", m.Dish, living["dishes"])
        self.symptoms = _table("symptom", m.Symptom, living["symptoms"])
        self.medications = _table("medication", m.Medication, living["medications"])
        self.specialties = _table("specialty", m.Entity, [{"name": n} for n in living["specialties"]])
        self.activities: dict[str, float] = {normalize(k): v for k, v in living["activities"]["items"].items()}
        self.activity_names = _table("activity", m.Entity, [{"name": n} for n in living["activities"]["items"]])
        self.jobs = _table("job title", m.Job, [_renamed(j, "title") for j in living["jobs"]])
        self.services = _table("service", m.Entity, [{"name": n} for n in living["services"]])
        self._invented = invented
        self._build_local(invented)

    # -- invented local businesses -------------------------------------------------------

    def _build_local(self, invented: dict[str, Any]) -> None:
        words: list[str] = invented["words"]
        patterns: dict[str, str] = invented["patterns"]
        hotels = [m.Hotel(**h) for h in invented["real_hotels"]]
        self.hotel_of: dict[str, str] = {h.city: h.name for h in hotels}  # the best-rated hotel of a city
        businesses: list[m.LocalBusiness] = []
        doctors: list[m.Doctor] = []
        taken: set[str] = set()
        for city in self.cities.items:
            def name(kind: str, detail: str = "", **fields: str) -> str:
                word = Draw(self.version, "name", kind, city.name, detail).pick(words)
                return patterns[kind].format(word=word, city=city.name, **fields)

            hotels.append(m.Hotel(name=name("hotel"), city=city.name, address=self._address(city, "hotel"), invented=True))
            self.hotel_of.setdefault(city.name, hotels[-1].name)
            for kind in ("pharmacy", "cinema", "store", "hospital", "clinic"):
                businesses.append(self._business(city, kind, name(kind), None))
            for cuisine, info in self.cuisines.items():
                prefix = Draw(self.version, "prefix", city.name, cuisine).pick(info["prefixes"])
                businesses.append(self._business(city, "restaurant", name("restaurant", cuisine, prefix=prefix), cuisine))
            for service in self.services.names:
                label = invented["service_names"][service]
                businesses.append(self._business(city, "provider", name("provider", service, service=label), service))
            clinic = f"{Draw(self.version, 'name', 'clinic', city.name, '').pick(words)} Clinic {city.name}"
            for specialty in self.specialties.names:
                draw = Draw(self.version, "doctor", city.name, specialty)
                while True:
                    first, initial = draw.pick(invented["first_names"]), draw.pick("ABCDEFGHJKLMNPRSTVW")
                    doctor = f"Dr. {first} {initial}. {draw.pick(invented['last_names'])}"
                    if doctor not in taken:
                        break
                taken.add(doctor)
                doctors.append(m.Doctor(name=doctor, specialty=specialty, city=city.name, clinic=clinic, invented=True))
        self.hotels = Table("hotel", hotels)
        self.businesses = Table("business", businesses)
        self.doctors = Table("doctor", doctors)
        self._local = {(b.kind, b.city, b.detail): b for b in businesses}
        self._doctor_of = {(d.city, d.specialty): d for d in doctors}

    def _business(self, city: m.City, kind: str, name: str, detail: str | None) -> m.LocalBusiness:
        return m.LocalBusiness(
            name=name, kind=kind, city=city.name, detail=detail, invented=True,
            phone=self.phone(city, name), address=self._address(city, name),
        )

    def phone(self, city: m.City, owner: str) -> str:
        code = self._invented["calling_codes"].get(city.country, "1")
        draw = Draw(self.version, "phone", owner)
        return f"+{code} 555 {draw.whole(100, 999)} {draw.whole(1000, 9999)}"

    def _address(self, city: m.City, owner: str) -> str:
        draw = Draw(self.version, "address", city.name, owner)
        return f"{draw.whole(1, 240)} {draw.pick(self._invented['streets'])}, {city.name}"

    def local(self, kind: str, city: m.City, detail: str | None = None) -> m.LocalBusiness:
        return self._local[(kind, city.name, detail)]

    def doctor(self, city: m.City, specialty: str) -> m.Doctor:
        return self._doctor_of[(city.name, specialty)]

    # -- answering ----------------------------------------------------------------------

    def draw(self, function: str, *key: object) -> Draw:
        """The generator for one call's volatile values, keyed by what the call is about."""
        return Draw(self.version, function, *key)

    def knows(self, function: str) -> bool:
        from composition.world.services import SERVICES  # services import this module, so late

        return function in SERVICES

    @property
    def functions(self) -> tuple[str, ...]:
        from composition.world.services import SERVICES

        return tuple(sorted(SERVICES))

    def call(self, function: str, arguments: Mapping[str, Any]) -> ToolAnswer:
        """The world's answer to ``function(**arguments)``; see the module docstring."""
        return _cached_call(self, function, canonical_json(dict(arguments)))

    def result(self, function: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The result of a call the world can answer; NotFound (with the service's sentence)
        otherwise. This is the ``call(name, arguments)`` a gold plan runs on
        (``composition.gold.run_gold_plan``), for composing and for checking answers."""
        answer = self.call(function, arguments)
        if not answer.found or answer.result is None:
            raise NotFound(f"{function}: {answer.error}")
        return answer.result

    def comparable(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        """Whether two calls' answers may be compared like with like: calls about teams must be
        about teams of one league (82 NBA games are not 17 NFL ones); anything else may."""
        teams = [self.teams.get(args.get("team")) for args in (left, right)]
        if all(team is not None for team in teams):
            return teams[0].league == teams[1].league  # type: ignore[union-attr]
        return True

    def in_text(self, value: Any) -> Any:
        """How a literal value reads in a sentence: 'the Netherlands', 'the Boston Celtics'."""
        entity = self.countries.get(value) or self.teams.get(value) if isinstance(value, str) else None
        return f"the {value}" if entity is not None and entity.article else value

    def collection(self, name: str) -> tuple[str, ...]:
        """Names of one kind of entity, for filling a task's literal slots (e.g. 'city'). Names
        that begin with an article ('The Fraud') are left out: a task states them as 'the book
        ...', and an argument carries the bare value."""
        if name not in COLLECTIONS:
            raise KeyError(f"the world has no collection {name!r}; known: {', '.join(sorted(COLLECTIONS))}")
        return _collection(self, name)


def _tables(attribute: str) -> Callable[[World], tuple[str, ...]]:
    return lambda world: getattr(world, attribute).names


def _where(attribute: str, keep: Callable[[World, Any], bool]) -> Callable[[World], tuple[str, ...]]:
    return lambda world: tuple(e.name for e in getattr(world, attribute).items if keep(world, e))


COLLECTIONS: dict[str, Callable[[World], tuple[str, ...]]] = {
    **{name: _tables(attribute) for name, attribute in {
        "country": "countries", "city": "cities", "airport": "airports", "flight": "flights", "person": "people",
        "book": "books", "film": "films", "streaming_service": "streaming", "musician": "musicians",
        "company": "companies", "product": "products", "product_category": "categories", "appliance": "appliances",
        "team": "teams", "venue": "venues", "athlete": "players", "university": "universities", "course": "courses",
        "cuisine": "cuisine_names", "dish": "dishes", "symptom": "symptoms", "medication": "medications",
        "specialty": "specialties", "activity": "activity_names", "job_title": "jobs", "service_type": "services",
        "hotel": "hotels", "business": "businesses",
    }.items()},
    "graduate": _where("people", lambda w, p: p.alma_mater is not None),
    "novelist": _where("people", lambda w, p: normalize(p.name) in w.novels),
    "filmmaker": _where("people", lambda w, p: normalize(p.name) in w.filmographies),
    "listed_company": _where("companies", lambda w, c: c.ticker is not None),
    "ticker": lambda world: tuple(c.ticker for c in world.companies.items if c.ticker is not None),
    "currency": lambda world: tuple(sorted(world.markets["usd_rates"])),
    "ranked_country": _where("countries", lambda w, c: (u := w.universities.get(c.top_university)) is not None and u.rank is not None),
    "dish_country": _where("countries", lambda w, c: c.national_dish is not None),
    "restaurant": _where("businesses", lambda w, b: b.kind == "restaurant"),
    "store": _where("businesses", lambda w, b: b.kind == "store"),
}


@lru_cache(maxsize=256)
def _collection(world: World, name: str) -> tuple[str, ...]:
    return tuple(value for value in COLLECTIONS[name](world) if value.split()[0].casefold() not in ARTICLES)


ARTICLES = frozenset({"the", "a", "an"})


@lru_cache(maxsize=65536)
def _cached_call(world: World, function: str, arguments_json: str) -> ToolAnswer:
    from composition.world.services import SERVICES

    service = SERVICES.get(function)
    if service is None:
        return ToolAnswer(function=function, found=False, error=f"The service has no function {function!r}.")
    try:
        result = service(world, json.loads(arguments_json))
    except NotFound as missing:
        return ToolAnswer(function=function, found=False, error=str(missing))
    return ToolAnswer(function=function, found=True, result=result)


def _renamed(raw: dict[str, Any], key: str) -> dict[str, Any]:
    record = dict(raw)
    record["name"] = record.pop(key)
    return record


def _table(
    kind: str, model: type[E], rows: list[dict[str, Any]], keys: Callable[[E], tuple[str, ...]] | None = None
) -> Table[E]:
    entities = []
    for position, row in enumerate(rows):
        try:
            entities.append(model.model_validate(row))
        except ValidationError as error:
            first = field_problems(error, inputs=False)[0]
            raise WorldError(f"world data: {kind} #{position} ({row.get('name')!r}): {first}") from None
    return Table(kind, entities, keys)


DATA_FILES = ("world", "places", "culture", "business", "sports", "education", "living", "invented", "markets")


def default_data_dir() -> Path:
    return Path(str(resources.files("composition.world") / "data"))


@lru_cache(maxsize=4)
def load_world(data_dir: str | Path | None = None) -> World:
    """The world in ``data_dir`` (the packaged one by default), checked; cached per folder."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    data: dict[str, Any] = {}
    for name in DATA_FILES:
        path = folder / f"{name}.json"
        try:
            data[name] = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise WorldError(f"{path}: cannot read: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise WorldError(f"{path}: line {error.lineno}: invalid JSON: {error.msg}") from None
    return World(data)
