"""A table of well-known facts, written independently of the world's data files, to audit it
(tests/test_world.py and benchmarks/quality.py).

Each row is (function, arguments, result field, expected value). The world must agree with
every row, and so must every tool result of an offline run that makes one of these calls.
"""

from __future__ import annotations

FACTS: list[tuple[str, dict[str, str], str, object]] = [
    ("get_airport_info", {"airport_code": "JFK"}, "city", "New York"),
    ("get_airport_info", {"airport_code": "LHR"}, "city", "London"),
    ("get_airport_info", {"airport_code": "NRT"}, "city", "Tokyo"),
    ("get_airport_info", {"airport_code": "GRU"}, "city", "São Paulo"),
    ("get_airport_info", {"airport_code": "CDG"}, "city", "Paris"),
    ("get_airport_info", {"airport_code": "SFO"}, "city", "San Francisco"),
    ("find_airports", {"city": "Chicago"}, "airport_code", "ORD"),
    ("find_airports", {"city": "Madrid"}, "airport_code", "MAD"),
    ("get_venue_info", {"venue": "Fenway Park"}, "city", "Boston"),
    ("get_venue_info", {"venue": "Wembley Stadium"}, "city", "London"),
    ("get_venue_info", {"venue": "Allianz Arena"}, "city", "Munich"),
    ("get_venue_info", {"venue": "Madison Square Garden"}, "city", "New York"),
    ("get_venue_info", {"venue": "Maracanã Stadium"}, "city", "Rio de Janeiro"),
    ("get_team_info", {"team": "Green Bay Packers"}, "home_city", "Green Bay"),
    ("get_team_info", {"team": "Boston Celtics"}, "home_city", "Boston"),
    ("get_team_info", {"team": "Chicago Bulls"}, "home_city", "Chicago"),
    ("get_team_info", {"team": "Liverpool FC"}, "stadium", "Anfield"),
    ("get_team_info", {"team": "Bayern Munich"}, "stadium", "Allianz Arena"),
    ("get_city_info", {"city": "Lyon"}, "country", "France"),
    ("get_city_info", {"city": "Osaka"}, "country", "Japan"),
    ("get_city_info", {"city": "Porto"}, "country", "Portugal"),
    ("get_city_info", {"city": "Marrakesh"}, "country", "Morocco"),
    ("get_city_info", {"city": "Melbourne"}, "timezone", "Australia/Melbourne"),
    ("get_city_info", {"city": "Denver"}, "timezone", "America/Denver"),
    ("get_city_info", {"city": "Istanbul"}, "timezone", "Europe/Istanbul"),
    ("get_city_info", {"city": "Auckland"}, "timezone", "Pacific/Auckland"),
    ("get_country_info", {"country": "Japan"}, "capital", "Tokyo"),
    ("get_country_info", {"country": "Brazil"}, "capital", "Brasília"),
    ("get_country_info", {"country": "Kenya"}, "capital", "Nairobi"),
    ("get_country_info", {"country": "Canada"}, "capital", "Ottawa"),
    ("get_country_info", {"country": "Australia"}, "capital", "Canberra"),
    ("get_country_info", {"country": "Switzerland"}, "currency_code", "CHF"),
    ("get_country_info", {"country": "Mexico"}, "currency_code", "MXN"),
    ("get_country_info", {"country": "India"}, "currency_code", "INR"),
    ("search_books", {"title": "Dune"}, "author", "Frank Herbert"),
    ("search_books", {"title": "Beloved"}, "author", "Toni Morrison"),
    ("search_books", {"title": "Never Let Me Go"}, "author", "Kazuo Ishiguro"),
    ("search_books", {"title": "Pride and Prejudice"}, "author", "Jane Austen"),
    ("search_books", {"title": "Frankenstein"}, "publication_year", 1818),
    ("search_movies", {"movie": "Parasite"}, "director", "Bong Joon-ho"),
    ("search_movies", {"movie": "Spirited Away"}, "director", "Hayao Miyazaki"),
    ("search_movies", {"movie": "Arrival"}, "director", "Denis Villeneuve"),
    ("search_movies", {"movie": "Lady Bird"}, "director", "Greta Gerwig"),
    ("search_movies", {"movie": "Oppenheimer"}, "director", "Christopher Nolan"),
    ("get_company_profile", {"company": "Microsoft"}, "headquarters_city", "Redmond"),
    ("get_company_profile", {"company": "Siemens"}, "headquarters_city", "Munich"),
    ("get_company_profile", {"company": "Heineken"}, "headquarters_city", "Amsterdam"),
    ("get_company_profile", {"company": "Spotify"}, "headquarters_city", "Stockholm"),
    ("get_company_profile", {"company": "Lego"}, "headquarters_city", "Billund"),
    ("lookup_ticker", {"company": "Nvidia"}, "symbol", "NVDA"),
    ("lookup_ticker", {"company": "Coca-Cola"}, "symbol", "KO"),
    ("lookup_ticker", {"company": "Netflix"}, "symbol", "NFLX"),
    ("lookup_ticker", {"company": "Apple"}, "symbol", "AAPL"),
    ("get_product_details", {"product": "PlayStation 5"}, "manufacturer", "Sony"),
    ("get_product_details", {"product": "Xbox Series X"}, "manufacturer", "Microsoft"),
    ("get_product_details", {"product": "Nintendo Switch OLED"}, "manufacturer", "Nintendo"),
    ("get_product_details", {"product": "iPad Air"}, "manufacturer", "Apple"),
    ("get_person_profile", {"name": "Alan Turing"}, "birth_date", "1912-06-23"),
    ("get_person_profile", {"name": "Barack Obama"}, "birthplace", "Honolulu"),
    ("get_person_profile", {"name": "Angela Merkel"}, "nationality", "Germany"),
    ("get_university_info", {"university": "Harvard University"}, "founded_year", 1636),
    ("get_university_info", {"university": "McGill University"}, "city", "Montreal"),
    ("get_university_info", {"university": "ETH Zurich"}, "city", "Zurich"),
    ("get_player_profile", {"player": "Stephen Curry"}, "team", "Golden State Warriors"),
]

# Values that must never fill a field of another kind: people's names where a place or a
# thing is expected, and the schema simulator's filler phrases.
PLACEHOLDER_WORDS = ("standard plan", "premium option", "family plan", "basic item", "seasonal entry", "extra_")
