"""Weather text: bulletins found in news articles (their grammar, validity and wording), the
forecast's wording (WMO codes in CMA words or plain English), and weather-alert grading.
Pure functions, no network: the forecast provider and alert delivery live in ``bot/``."""

from summarizer.weather.bulletins import Bulletin, Period, parse_bulletins

__all__ = ["Bulletin", "Period", "parse_bulletins"]
