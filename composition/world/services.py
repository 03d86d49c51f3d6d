"""How the world answers each library function: one small handler per function name.

A handler resolves the entities a call names (``NotFound`` when one is unknown or the request
is impossible, e.g. a road trip across an ocean), reads their stable facts, and draws volatile
values from ``World.draw`` keyed by the resolved entities, so "lisbon" and "Lisbon" get the
same answer. Every result obeys the function's ``responses`` schema in the library; the units
are the ones the schema descriptions state (USD, km, minutes, degrees Celsius).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from composition.world import models as m
from composition.world.synthetic import great_circle_km, mean_temperature, sun_times
from composition.world.world import NotFound, World, normalize

Service = Callable[[World, dict[str, Any]], dict[str, Any]]
SERVICES: dict[str, Service] = {}


def service(function: Callable[[World, dict[str, Any]], dict[str, Any]]) -> Service:
    """Register a handler under its function's name."""
    SERVICES[function.__name__] = function
    return function


def _city(world: World, args: dict[str, Any], key: str = "city") -> m.City:
    return world.cities.find(args.get(key), "city")


def _day(world: World, value: Any) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise NotFound(f"{value!r} is not a date in the form YYYY-MM-DD.") from None
    if day < world.today:
        raise NotFound(f"{day.isoformat()} is in the past; only today and later dates can be looked up.")
    return day


def _upcoming(world: World, days: int) -> str:
    return (world.today + timedelta(days=days)).isoformat()


def _price_level(world: World, city: m.City) -> float:
    return world.countries.find(city.country).price_level


def _size(city: m.City) -> float:
    """1.0 for a city of a million people, more for bigger ones (prices and openings scale)."""
    return min(1.4, max(0.75, 0.85 + 0.05 * (city.population / 1_000_000) ** 0.5))


# -- travel ------------------------------------------------------------------------------


@service
def get_country_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    country = world.countries.find(args.get("country"), "country")
    return {"capital": country.capital, "currency_code": country.currency, "official_language": country.languages}


@service
def get_city_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    return {"country": city.country, "population": city.population, "timezone": city.timezone}


@service
def find_airports(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    airport = world.airports.find(city.airport)
    served = world.cities.get(airport.city)
    distance = great_circle_km(city, served) if served and served is not city else 0.0
    distance += world.draw("find_airports", city.name).number(12, 30, 1)
    return {"airport_code": airport.code, "airport_name": airport.name, "distance_to_center_km": round(distance, 1)}


@service
def get_airport_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    airport = world.airports.find(args.get("airport_code"), "airport with the code")
    return {"city": airport.city, "name": airport.name}


@service
def get_flight_status(world: World, args: dict[str, Any]) -> dict[str, Any]:
    flight = world.flights.find(args.get("flight_number"), "flight")
    draw = world.draw("get_flight_status", flight.name)
    status = "delayed" if draw.chance(0.12) else "scheduled"
    return {
        "departure_airport": flight.origin, "arrival_airport": flight.destination,
        "departure_date": _upcoming(world, draw.whole(1, 45)), "status": status,
    }


@service
def search_flights(world: World, args: dict[str, Any]) -> dict[str, Any]:
    origin, destination = _city(world, args, "origin"), _city(world, args, "destination")
    if origin is destination:
        raise NotFound(f"Origin and destination are both {origin.name}.")
    day = _day(world, args.get("date"))
    distance = great_circle_km(origin, destination)
    if distance < 150:
        raise NotFound(f"No flights between {origin.name} and {destination.name}; they are too close.")
    draw = world.draw("search_flights", origin.name, destination.name, day.isoformat())
    fare = (60 + 0.085 * distance) * draw.number(0.8, 1.35, 3)
    carriers = world.markets["airlines"].get(origin.country, []) + world.markets["airlines"].get(destination.country, [])
    stops = 0 if distance < 5500 or draw.chance(0.4) else draw.whole(1, 2)
    return {"lowest_fare": round(fare, 2), "airline": draw.pick(carriers), "stops": stops}


@service
def get_route(world: World, args: dict[str, Any]) -> dict[str, Any]:
    origin, destination = _city(world, args, "origin"), _city(world, args, "destination")
    if origin is destination:
        raise NotFound(f"Origin and destination are both {origin.name}.")
    if origin.landmass != destination.landmass:
        raise NotFound(f"No driving route connects {origin.name} and {destination.name}.")
    draw = world.draw("get_route", *sorted((origin.name, destination.name)))
    distance = great_circle_km(origin, destination) * draw.number(1.18, 1.35, 3)
    speed = draw.number(72, 92, 1)  # average km/h including towns and stops
    return {"distance_km": round(distance, 1), "duration_minutes": round(distance / speed * 60) + 10}


@service
def search_hotels(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    results = round(world.draw("search_hotels", city.name).whole(30, 120) * _size(city) ** 3)
    return {"top_hotel": world.hotel_of[city.name], "results": results}


@service
def get_hotel_details(world: World, args: dict[str, Any]) -> dict[str, Any]:
    hotel = world.hotels.find(args.get("hotel"), "hotel")
    city = world.cities.find(hotel.city)
    draw = world.draw("get_hotel_details", hotel.name)
    if hotel.invented:  # each invented hotel is its city's best-rated one (search_hotels): rated accordingly
        rate, rating = draw.number(90, 240) * _price_level(world, city), draw.number(4.3, 4.8, 1)
    else:
        rate, rating = draw.number(380, 950) * max(0.6, _price_level(world, city)), draw.number(4.5, 4.9, 1)
    result: dict[str, Any] = {"nightly_rate": round(rate, 2), "rating": rating}
    if hotel.address:
        result["address"] = hotel.address if hotel.invented else f"{hotel.address}, {city.name}"
    return result


# -- weather -----------------------------------------------------------------------------

CONDITIONS = ("sunny", "partly cloudy", "cloudy", "rain", "fog", "thunderstorm")


def _weather(world: World, city: m.City, day: date, function: str) -> tuple[float, float, float, str]:
    """(high, low, chance of rain, condition) for one city and day."""
    draw = world.draw("weather", city.name, day.isoformat())
    mean = mean_temperature(city, day) + draw.number(-3, 3, 1)
    spread = draw.number(3, 6, 1)
    rain = draw.whole(0, 85)
    condition = "rain" if rain > 65 else draw.pick(CONDITIONS[:3] if rain < 35 else CONDITIONS[1:])
    if condition in ("rain", "thunderstorm") and mean < 1:
        condition = "snow"
    return round(mean + spread, 1), round(mean - spread, 1), float(rain), condition


@service
def get_current_weather(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    high, low, _, condition = _weather(world, city, world.today, "current")
    draw = world.draw("get_current_weather", city.name)
    return {
        "temperature_c": round(low + (high - low) * draw.number(0.3, 0.9), 1),
        "humidity_percent": float(draw.whole(30, 90)),
        "condition": condition,
        "wind_kph": draw.number(2, 35, 1),
    }


@service
def get_weather_forecast(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    day = _day(world, args.get("date"))
    high, low, rain, condition = _weather(world, city, day, "forecast")
    summary = f"{condition.capitalize()}, between {low:g} and {high:g} degrees Celsius"
    return {"high_c": high, "low_c": low, "precipitation_probability": rain, "summary": summary}


@service
def get_air_quality(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    draw = world.draw("get_air_quality", city.name)
    base = 20 + 130 * max(0.0, 1 - _price_level(world, city)) * _size(city)
    return {"aqi": max(5, min(300, round(base * draw.number(0.7, 1.3)))), "main_pollutant": draw.pick(("pm2.5", "ozone", "pm10", "no2"))}


@service
def get_sun_times(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    sunrise, sunset = sun_times(city, _day(world, args.get("date")))
    return {"sunrise": sunrise, "sunset": sunset}


# -- books, films, music -----------------------------------------------------------------


@service
def search_books(world: World, args: dict[str, Any]) -> dict[str, Any]:
    book = world.books.find(args.get("title"), "book")
    return {"author": book.author, "publication_year": book.year, "page_count": book.pages, "genre": book.genre}


@service
def list_books_by_author(world: World, args: dict[str, Any]) -> dict[str, Any]:
    author = args.get("author")
    novels = world.novels.get(normalize(author)) if isinstance(author, str) else None
    if not novels:
        raise NotFound(f"No catalogue of novels by {author!r} was found.")
    return {"books": list(reversed(novels)), "latest_title": novels[-1]}


@service
def get_book_offers(world: World, args: dict[str, Any]) -> dict[str, Any]:
    book = world.books.find(args.get("title"), "book")
    draw = world.draw("get_book_offers", book.name)
    return {
        "lowest_price": round((7 + book.pages * 0.012) * draw.number(0.8, 1.3, 3), 2),
        "format": draw.pick(("paperback", "ebook", "hardcover")),
        "seller": draw.pick(world.markets["booksellers"]),
    }


@service
def search_movies(world: World, args: dict[str, Any]) -> dict[str, Any]:
    film = world.films.find(args.get("movie"), "film")
    return {
        "director": film.director, "release_date": film.released.isoformat(), "runtime_minutes": film.runtime,
        "streaming_on": world.draw("search_movies", film.name).pick(world.streaming.names),
    }


@service
def get_filmography(world: World, args: dict[str, Any]) -> dict[str, Any]:
    director = args.get("director")
    films = world.filmographies.get(normalize(director)) if isinstance(director, str) else None
    if not films:
        raise NotFound(f"No filmography for {director!r} was found.")
    return {"latest_movie": films[-1], "movies": list(reversed(films))}


@service
def find_showtimes(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    film = world.films.find(args.get("movie"), "film")
    cinema = world.local("cinema", city)
    return {"cinema": cinema.name, "first_showtime": world.draw("find_showtimes", city.name, film.name).clock(13 * 60, 20 * 60 + 30)}


@service
def get_artist_tour(world: World, args: dict[str, Any]) -> dict[str, Any]:
    artist = world.musicians.find(args.get("artist"), "musician")
    draw = world.draw("get_artist_tour", artist.name)
    venues = [venue.name for venue in world.venues.items if venue.kind == "concert_venue"]
    return {"next_venue": draw.pick(venues), "next_date": _upcoming(world, draw.whole(10, 200)), "ticket_price_from": draw.number(45, 160)}


@service
def get_subscription_plans(world: World, args: dict[str, Any]) -> dict[str, Any]:
    plan = world.streaming.find(args.get("service"), "streaming service")
    return {"monthly_price": plan.monthly_usd, "free_trial_days": plan.trial_days}


# -- finance -----------------------------------------------------------------------------


@service
def lookup_ticker(world: World, args: dict[str, Any]) -> dict[str, Any]:
    company = world.companies.find(args.get("company"), "company")
    if company.ticker is None:
        raise NotFound(f"{company.name} has no stock listed on NASDAQ, NYSE, LSE, TSE, XETRA or EURONEXT.")
    return {"symbol": company.ticker, "exchange": company.exchange}


@service
def get_stock_quote(world: World, args: dict[str, Any]) -> dict[str, Any]:
    symbol = str(args.get("symbol", "")).upper()
    company = next((c for c in world.companies.items if c.ticker == symbol), None)
    if company is None or company.share_price_usd is None:
        raise NotFound(f"No stock trades under the symbol {args.get('symbol')!r}.")
    draw = world.draw("get_stock_quote", symbol)
    return {
        "price": round(company.share_price_usd * draw.number(0.92, 1.08, 4), 2),
        "change_percent": draw.number(-3.5, 3.5),
        "volume": draw.whole(2, 60) * 1_000_000 + draw.whole(0, 999_999),
    }


def _rate(world: World, code: Any) -> float:
    rate = world.markets["usd_rates"].get(str(code).upper())
    if rate is None:
        raise NotFound(f"No exchange rate is published for the currency {code!r}.")
    return rate


@service
def get_exchange_rate(world: World, args: dict[str, Any]) -> dict[str, Any]:
    base, quote = str(args.get("base", "")).upper(), str(args.get("quote", "")).upper()
    if base == quote:
        raise NotFound(f"Base and quote are both {base}; there is nothing to convert.")
    rate = _rate(world, quote) / _rate(world, base)
    return {"rate": round(rate, 6 if rate < 0.01 else 4), "as_of": f"{world.today.isoformat()}T16:00:00Z"}


@service
def convert_from_usd(world: World, args: dict[str, Any]) -> dict[str, Any]:
    rate = _rate(world, args.get("currency"))
    if str(args.get("currency")).upper() == "USD":
        raise NotFound("The amount is already in US dollars; there is nothing to convert.")
    amount = args.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
        raise NotFound(f"{amount!r} is not an amount of money.")
    return {"converted_amount": round(amount * rate, 2), "rate": rate}


@service
def get_company_profile(world: World, args: dict[str, Any]) -> dict[str, Any]:
    company = world.companies.find(args.get("company"), "company")
    return {"ceo": company.ceo, "headquarters_city": company.headquarters, "founded_year": company.founded, "sector": company.sector}


# -- food --------------------------------------------------------------------------------


@service
def search_restaurants(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    cuisine = args.get("cuisine")
    if cuisine is None:
        home = world.home_cuisine.get(city.country)
        name = home or world.draw("city_cuisine", city.name).pick(sorted(world.cuisines))
    else:
        name = world.cuisine_names.find(cuisine, "cuisine").name
    restaurant = world.local("restaurant", city, name)
    matches = round(world.draw("search_restaurants", city.name, name).whole(4, 40) * _size(city) ** 3)
    return {"top_restaurant": restaurant.name, "matches": matches}


@service
def get_restaurant_details(world: World, args: dict[str, Any]) -> dict[str, Any]:
    restaurant = world.businesses.get(args.get("restaurant"))
    if restaurant is None or restaurant.kind != "restaurant":
        raise NotFound(f"No restaurant named {args.get('restaurant')!r} was found.")
    city = world.cities.find(restaurant.city)
    draw = world.draw("get_restaurant_details", restaurant.name)
    return {
        "phone": restaurant.phone,
        "rating": draw.number(3.9, 4.8, 1),
        "average_price_per_person": round(draw.number(18, 55) * _price_level(world, city), 2),
        "signature_dish": draw.pick(world.cuisines[restaurant.detail]["dishes"]),
    }


@service
def get_nutrition_facts(world: World, args: dict[str, Any]) -> dict[str, Any]:
    dish = world.dishes.find(args.get("dish"), "dish")
    return {"calories": dish.calories, "protein_g": dish.protein_g, "fat_g": dish.fat_g}


@service
def search_recipes(world: World, args: dict[str, Any]) -> dict[str, Any]:
    dish = world.dishes.find(args.get("dish"), "dish")
    return {"total_time_minutes": dish.minutes, "servings": dish.servings, "ingredients": list(dish.ingredients)}


@service
def get_country_cuisine(world: World, args: dict[str, Any]) -> dict[str, Any]:
    country = world.countries.find(args.get("country"), "country")
    if country.national_dish is None:
        raise NotFound(f"{country.name} has no single recognised national dish.")
    return {"national_dish": country.national_dish}


# -- health ------------------------------------------------------------------------------


@service
def lookup_symptom_treatments(world: World, args: dict[str, Any]) -> dict[str, Any]:
    symptom = world.symptoms.find(args.get("symptom"), "symptom")
    return {"common_medication": symptom.medication, "see_doctor_if": symptom.see_doctor_if, "specialist": symptom.specialist}


@service
def get_medication_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    medication = world.medications.find(args.get("medication"), "medication")
    return {
        "adult_dose": medication.adult_dose, "side_effects": list(medication.side_effects),
        "requires_prescription": medication.prescription,
    }


@service
def find_doctors(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    specialty = world.specialties.find(args.get("specialty"), "medical specialty")
    doctor = world.doctor(city, specialty.name)
    return {"top_doctor": doctor.name, "clinic": doctor.clinic, "accepts_new_patients": world.draw("find_doctors", doctor.name).chance(0.7)}


@service
def estimate_calories_burned(world: World, args: dict[str, Any]) -> dict[str, Any]:
    activity = args.get("activity")
    met = world.activities.get(normalize(activity)) if isinstance(activity, str) else None
    if met is None:
        raise NotFound(f"No energy estimate for the activity {activity!r}.")
    minutes = args.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise NotFound(f"{minutes!r} is not a number of minutes.")
    intensity = "light" if met < 3 else "moderate" if met < 6 else "vigorous"
    return {"calories": round(met * 70 * minutes / 60), "intensity": intensity}


@service
def find_pharmacies(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    pharmacy = world.local("pharmacy", city)
    return {"pharmacy": pharmacy.name, "closes_at": world.draw("find_pharmacies", city.name).clock(19 * 60, 23 * 60, 30)}


# -- home --------------------------------------------------------------------------------


@service
def get_housing_market(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    draw = world.draw("get_housing_market", city.name)
    rent = 2300 * _price_level(world, city) * _size(city) * draw.number(0.85, 1.15, 3)
    return {"average_rent_2br": round(rent, 2), "median_home_price": round(rent * draw.whole(170, 260), -3)}


@service
def get_utility_rates(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    draw = world.draw("get_utility_rates", city.name)
    level = _price_level(world, city)
    return {
        "electricity_per_kwh": round((0.06 + 0.2 * level) * draw.number(0.85, 1.2, 3), 3),
        "water_per_m3": round((0.5 + 3 * level) * draw.number(0.8, 1.2, 3), 2),
    }


@service
def get_appliance_specs(world: World, args: dict[str, Any]) -> dict[str, Any]:
    appliance = world.appliances.find(args.get("product"), "appliance")
    low, high = world.appliance_types[appliance.type]["kwh"]
    draw = world.draw("get_appliance_specs", appliance.name)
    return {"annual_energy_kwh": float(draw.whole(low, high)), "energy_class": draw.pick(("A", "B", "B", "C", "D"))}


@service
def find_local_services(world: World, args: dict[str, Any]) -> dict[str, Any]:
    city = _city(world, args)
    kind = world.services.find(args.get("service"), "kind of service")
    provider = world.local("provider", city, kind.name)
    return {"top_provider": provider.name, "rating": world.draw("find_local_services", provider.name).number(4.2, 4.9, 1)}


@service
def get_business_contact(world: World, args: dict[str, Any]) -> dict[str, Any]:
    business = world.businesses.find(args.get("business"), "business")
    return {"phone": business.phone, "address": business.address}


# -- jobs --------------------------------------------------------------------------------


def _employer(world: World, job: m.Job, city: m.City) -> str:
    if job.local_employer == "hospital":
        return world.local("hospital", city).name
    if job.local_employer == "pharmacy":
        return world.local("pharmacy", city).name
    if job.local_employer is not None:
        return world.local("provider", city, job.local_employer).name
    return world.draw("employer", job.name, city.name).pick(job.employers)


@service
def get_salary_estimate(world: World, args: dict[str, Any]) -> dict[str, Any]:
    job, city = world.jobs.find(args.get("job_title"), "job title"), _city(world, args)
    draw = world.draw("get_salary_estimate", job.name, city.name)
    salary = job.salary_usd * max(0.15, _price_level(world, city)) * draw.number(0.9, 1.12, 3)
    return {"average_salary": round(salary, -2), "sample_size": draw.whole(40, 900)}


@service
def search_job_openings(world: World, args: dict[str, Any]) -> dict[str, Any]:
    job, city = world.jobs.find(args.get("job_title"), "job title"), _city(world, args)
    openings = world.draw("search_job_openings", job.name, city.name).whole(5, 60) * _size(city) ** 4
    return {"open_positions": round(openings), "top_employer": _employer(world, job, city)}


@service
def get_employer_reviews(world: World, args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("company")
    employer = world.companies.get(name) or world.businesses.get(name)
    if employer is None:
        raise NotFound(f"No employer named {name!r} was found.")
    draw = world.draw("get_employer_reviews", employer.name)
    rating = draw.number(3.3, 4.6, 1)
    return {"rating": rating, "recommend_percent": float(round(rating * 20 - draw.whole(2, 12)))}


@service
def get_role_requirements(world: World, args: dict[str, Any]) -> dict[str, Any]:
    job = world.jobs.find(args.get("job_title"), "job title")
    return {"skills": list(job.skills), "typical_degree": job.degree}


# -- people ------------------------------------------------------------------------------


@service
def get_person_profile(world: World, args: dict[str, Any]) -> dict[str, Any]:
    person = world.people.find(args.get("name"), "notable person")
    result = {
        "birth_date": person.born.isoformat(), "birthplace": person.birthplace,
        "nationality": person.nationality, "occupation": person.occupation,
    }
    if person.alma_mater:
        result["alma_mater"] = person.alma_mater
    return result


# -- shopping ----------------------------------------------------------------------------


@service
def get_best_sellers(world: World, args: dict[str, Any]) -> dict[str, Any]:
    category = world.categories.find(args.get("category"), "product category")
    products = [p.name for p in world.products.items if p.category == category.name]
    ranking = world.draw("get_best_sellers", category.name).order(products)
    return {"top_product": ranking[0], "ranking": ranking}


@service
def get_product_details(world: World, args: dict[str, Any]) -> dict[str, Any]:
    product = world.products.find(args.get("product"), "product")
    draw = world.draw("get_product_details", product.name)
    return {
        "manufacturer": product.manufacturer, "price": round(product.price_usd * draw.number(0.82, 1.0, 3), 2),
        "rating": draw.number(4.0, 4.8, 1), "release_date": product.released.isoformat(),
    }


@service
def check_store_stock(world: World, args: dict[str, Any]) -> dict[str, Any]:
    product, city = world.products.find(args.get("product"), "product"), _city(world, args)
    store = world.local("store", city)
    return {"store": store.name, "units_available": world.draw("check_store_stock", product.name, city.name).whole(1, 40)}


@service
def get_store_hours(world: World, args: dict[str, Any]) -> dict[str, Any]:
    store = world.businesses.get(args.get("store"))
    if store is None or store.kind != "store":
        raise NotFound(f"No store named {args.get('store')!r} was found.")
    draw = world.draw("get_store_hours", store.name)
    return {"opens_at": draw.clock(9 * 60, 10 * 60, 30), "closes_at": draw.clock(19 * 60, 22 * 60, 60)}


# -- sports ------------------------------------------------------------------------------


@service
def get_player_profile(world: World, args: dict[str, Any]) -> dict[str, Any]:
    player = world.players.find(args.get("player"), "athlete")
    return {"team": player.team, "position": player.position, "nationality": player.nationality}


@service
def get_team_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    team = world.teams.find(args.get("team"), "team")
    return {"home_city": team.city, "stadium": team.venue, "head_coach": team.coach, "league": team.league}


@service
def get_team_schedule(world: World, args: dict[str, Any]) -> dict[str, Any]:
    team = world.teams.find(args.get("team"), "team")
    draw = world.draw("get_team_schedule", team.name)
    rivals = [t.name for t in world.teams.items if t.league == team.league and t is not team]
    rivals += world.leagues[team.league]["other_clubs"]
    return {"next_match_date": _upcoming(world, draw.whole(2, 12)), "opponent": draw.pick(rivals), "home_game": draw.chance(0.5)}


@service
def get_team_standings(world: World, args: dict[str, Any]) -> dict[str, Any]:
    team = world.teams.find(args.get("team"), "team")
    games = world.leagues[team.league]["games"]
    draw = world.draw("get_team_standings", team.name)
    played = round(games * draw.number(0.3, 0.6, 3))
    wins = round(played * draw.number(0.3, 0.8, 3))
    teams_in_league = 32 if team.league == "NFL" else 30 if team.league in ("NBA", "MLB") else 20 if games == 38 else 18
    rank = max(1, min(teams_in_league, round((1 - wins / max(1, played)) * teams_in_league) + draw.whole(-2, 2)))
    return {"wins": wins, "losses": played - wins, "rank": rank}


@service
def get_venue_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    venue = world.venues.find(args.get("venue"), "venue")
    return {"city": venue.city, "capacity": venue.capacity, "opened_year": venue.opened}


# -- education ---------------------------------------------------------------------------


@service
def get_university_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    university = world.universities.find(args.get("university"), "university")
    return {
        "city": university.city, "annual_tuition": float(university.tuition_usd),
        "acceptance_rate": university.acceptance_rate, "founded_year": university.founded,
    }


@service
def get_university_rankings(world: World, args: dict[str, Any]) -> dict[str, Any]:
    country = world.countries.find(args.get("country"), "country")
    university = world.universities.get(country.top_university)
    if university is None or university.rank is None:
        raise NotFound(f"No ranking of universities in {country.name} was found.")
    return {"top_university": university.name, "world_rank": university.rank}


@service
def get_course_info(world: World, args: dict[str, Any]) -> dict[str, Any]:
    course = world.courses.find(args.get("course"), "course")
    start = _upcoming(world, world.draw("get_course_info", course.name).whole(3, 60))
    return {"instructor": course.instructor, "next_start_date": start, "weeks": course.weeks}
