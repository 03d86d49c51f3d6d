"""The world's typed records, one pydantic model per kind of entity, as read from ``data/``.

Every entity has a ``name`` (the way people write it) and optional ``aliases``; lookups ignore
case, accents and extra spaces. ``invented`` marks entities made up for the world (a local
hotel, a flight schedule); everything else is a real entity described truthfully.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entity(Record):
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    invented: bool = False
    article: bool = Field(default=False, description="Written with 'the' in running text (the Netherlands).")


class Country(Entity):
    capital: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    languages: str
    continent: str
    price_level: float = Field(gt=0, description="Cost-of-living index, United States = 1.0.")
    top_university: str
    national_dish: str | None = None


class City(Entity):
    country: str
    population: int = Field(gt=0)
    timezone: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    airport: str = Field(pattern=r"^[A-Z]{3}$", description="IATA code of the main airport serving it.")
    landmass: str = Field(description="Cities on one landmass are joined by road.")
    elevation_m: int = 0


class Airport(Entity):
    code: str = Field(pattern=r"^[A-Z]{3}$")
    city: str


class Flight(Entity):
    origin: str
    destination: str


class Person(Entity):
    born: date
    birthplace: str
    nationality: str
    alma_mater: str | None = None
    occupation: str


class Book(Entity):
    author: str
    year: int
    pages: int = Field(gt=0)
    genre: str


class Film(Entity):
    director: str
    released: date
    runtime: int = Field(gt=0)


class StreamingService(Entity):
    monthly_usd: float = Field(gt=0)
    trial_days: int = Field(ge=0)


class Company(Entity):
    ticker: str | None = Field(default=None, pattern=r"^[A-Z]{1,5}$")
    exchange: str | None = None
    headquarters: str
    founded: int
    ceo: str
    sector: str
    share_price_usd: float | None = Field(default=None, gt=0)


class Product(Entity):
    manufacturer: str
    released: date
    price_usd: float = Field(gt=0)
    category: str


class Appliance(Entity):
    manufacturer: str
    type: str


class Team(Entity):
    league: str
    city: str
    venue: str
    coach: str


class Venue(Entity):
    city: str
    capacity: int = Field(gt=0)
    opened: int
    kind: str


class Player(Entity):
    team: str
    position: str
    nationality: str


class University(Entity):
    city: str
    founded: int
    tuition_usd: float = Field(ge=0)
    acceptance_rate: float = Field(ge=0, le=100)
    rank: int | None = Field(default=None, ge=1)


class Course(Entity):
    instructor: str
    weeks: int = Field(ge=1, le=52)


class Dish(Entity):
    calories: float = Field(ge=0)
    protein_g: float = Field(ge=0)
    fat_g: float = Field(ge=0)
    minutes: int = Field(gt=0)
    servings: int = Field(ge=1, le=12)
    ingredients: tuple[str, ...]


class Symptom(Entity):
    medication: str
    specialist: str
    see_doctor_if: str


class Medication(Entity):
    adult_dose: str
    side_effects: tuple[str, ...]
    prescription: bool


class Job(Entity):
    salary_usd: float = Field(gt=0)
    skills: tuple[str, ...]
    degree: str
    employers: tuple[str, ...] = ()
    local_employer: str | None = None


class Hotel(Entity):
    city: str
    address: str | None = None


class LocalBusiness(Entity):
    """An invented business with one home: a restaurant, pharmacy, cinema, shop, hospital,
    clinic or service provider. ``kind`` says which; ``detail`` is its cuisine or service."""

    kind: str
    city: str
    detail: str | None = None
    phone: str
    address: str


class Doctor(Entity):
    specialty: str
    city: str
    clinic: str
