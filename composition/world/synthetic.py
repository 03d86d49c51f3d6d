"""Volatile values: synthetic but plausible, and a pure function of what they describe.

A ``Draw`` is seeded by a hash of (world version, function, the resolved entities and other
arguments), never by a run's seed, so a fare, a forecast or a quote is the same in every
conversation, run and shard. Physical quantities come from models rather than dice where a
simple one exists: distances from coordinates, temperatures from latitude, season and
altitude, sunrise from the sun's position.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from composition.world.models import City

EARTH_RADIUS_KM = 6371.0


class Draw:
    """A seeded generator for one call: the same key always draws the same values."""

    def __init__(self, *key: object) -> None:
        digest = hashlib.blake2b("\x1f".join(map(str, key)).encode(), digest_size=8).digest()
        self._rng = random.Random(int.from_bytes(digest, "big"))

    def number(self, low: float, high: float, decimals: int = 2) -> float:
        return round(self._rng.uniform(low, high), decimals)

    def whole(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def pick(self, options: list | tuple):  # type: ignore[type-arg]
        return options[self._rng.randrange(len(options))]

    def order(self, options: list | tuple) -> list:  # type: ignore[type-arg]
        shuffled = list(options)
        self._rng.shuffle(shuffled)
        return shuffled

    def chance(self, probability: float) -> bool:
        return self._rng.random() < probability

    def clock(self, earliest: int, latest: int, step: int = 15) -> str:
        """A time of day between ``earliest`` and ``latest`` minutes after midnight, on a ``step`` grid."""
        minutes = self._rng.randrange(earliest // step, latest // step + 1) * step
        return f"{minutes // 60:02d}:{minutes % 60:02d}"


def great_circle_km(a: City, b: City) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


# Sea-level climate by absolute latitude (degrees): annual mean and half the seasonal swing, in
# degrees Celsius; rough zonal averages, interpolated linearly between the rows.
CLIMATE = (
    (0, 27.0, 0.0), (20, 25.5, 3.5), (30, 21.0, 6.0), (40, 16.0, 8.0),
    (50, 10.5, 9.5), (60, 5.5, 11.0), (70, 0.0, 13.0), (90, -15.0, 15.0),
)


def _climate(latitude: float) -> tuple[float, float]:
    for (low, mean_low, swing_low), (high, mean_high, swing_high) in zip(CLIMATE, CLIMATE[1:]):
        if latitude <= high:
            share = (latitude - low) / (high - low)
            return mean_low + share * (mean_high - mean_low), swing_low + share * (swing_high - swing_low)
    return CLIMATE[-1][1], CLIMATE[-1][2]


def mean_temperature(city: City, day: date) -> float:
    """Climatological daily mean in degrees Celsius: warm near the equator, seasonal far from
    it (summer peaks in late July in the north, late January in the south), cooler with altitude."""
    annual, swing = _climate(abs(city.lat))
    peak = 201 if city.lat >= 0 else 19  # day of the year of the warmest weeks
    phase = 2 * math.pi * (day.timetuple().tm_yday - peak) / 365.25
    return annual + swing * math.cos(phase) - 6.5 * city.elevation_m / 1000


def sun_times(city: City, day: date) -> tuple[str, str]:
    """Local sunrise and sunset (HH:MM) from the NOAA solar-position approximation; polar day or
    night is clamped to the nearest possible time."""
    gamma = 2 * math.pi / 365 * (day.timetuple().tm_yday - 1)
    equation = 229.18 * (
        0.000075 + 0.001868 * math.cos(gamma) - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma) - 0.040849 * math.sin(2 * gamma)
    )
    declination = (
        0.006918 - 0.399912 * math.cos(gamma) + 0.070257 * math.sin(gamma) - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma) - 0.002697 * math.cos(3 * gamma) + 0.00148 * math.sin(3 * gamma)
    )
    latitude = math.radians(city.lat)
    cos_hour = (math.cos(math.radians(90.833)) / (math.cos(latitude) * math.cos(declination))
                - math.tan(latitude) * math.tan(declination))
    hour_angle = math.degrees(math.acos(max(-1.0, min(1.0, cos_hour))))
    noon_utc = datetime.combine(day, time(0), tzinfo=timezone.utc)
    zone = ZoneInfo(city.timezone)

    def local(minutes: float) -> str:
        moment = (noon_utc + timedelta(minutes=minutes)).astimezone(zone)
        return f"{moment.hour:02d}:{moment.minute:02d}"

    return local(720 - 4 * (city.lon + hour_angle) - equation), local(720 - 4 * (city.lon - hour_angle) - equation)
