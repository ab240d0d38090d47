"""Open-Meteo's answers, as its forecast API gives them, for the fake provider on 127.0.0.1."""

from __future__ import annotations

from datetime import date, timedelta

DAY = date(2023, 2, 24)  # the demo's day (the seed bulletin's)


def open_meteo_payload(start: date = DAY, days: int = 3) -> dict:
    """An answer in Open-Meteo's shape: today cloudy turning to light rain, tonight rain, then overcast."""
    dates = [start + timedelta(days=i) for i in range(days)]
    hourly_time, hourly_code = [], []
    for d in dates:
        for hour in range(24):
            hourly_time.append(f"{d.isoformat()}T{hour:02d}:00")
            if d == start:
                hourly_code.append(2 if hour < 14 else 61)
            else:
                hourly_code.append(3)
    return {
        "latitude": 30.67, "longitude": 107.8, "timezone": "Asia/Shanghai", "utc_offset_seconds": 28800,
        "daily_units": {"temperature_2m_max": "°C", "wind_speed_10m_max": "km/h"},
        "daily": {
            "time": [d.isoformat() for d in dates],
            "weather_code": [61, 3, 0][:days],
            "temperature_2m_max": [12.4, 15.2, 18.0][:days],
            "temperature_2m_min": [8.6, 7.9, 9.1][:days],
            "precipitation_probability_max": [80, 20, 0][:days],
            "precipitation_sum": [6.2, 0.1, 0.0][:days],
            "wind_speed_10m_max": [14.0, 22.5, 5.0][:days],
            "wind_direction_10m_dominant": [45, 0, 180][:days],
            "sunrise": [f"{d}T07:12" for d in dates],
            "sunset": [f"{d}T18:40" for d in dates],
        },
        "hourly_units": {"weather_code": "wmo code"},
        "hourly": {"time": hourly_time, "weather_code": hourly_code},
    }


def stormy(kind: str = "storm", start: date = DAY) -> dict:
    """The day after ``start`` turns bad: a thunderstorm, or hail (the severest)."""
    payload = open_meteo_payload(start)
    payload["daily"]["weather_code"][1] = {"storm": 95, "hail": 99}[kind]
    return payload
