"""Text in, text out: summaries of news articles (:mod:`summarizer.api`, routed to the profiles
of models.yaml), the faithfulness gate that judges them (:mod:`summarizer.checks`,
:mod:`summarizer.checker`), and weather text (:mod:`summarizer.weather`: bulletins in news,
the forecast's wording, alert grading).

No Telegram, no database, no network (but an inference-server profile's requests, in its
backend, and weight downloads in :mod:`summarizer.weights`): the service in ``bot/`` wraps it.
"""

from summarizer.api import Summarizer, Summary, summarize
from summarizer.text import convert_script, detect_language
from summarizer.weather.bulletins import Bulletin, Period, parse_bulletins

__all__ = [
    "Bulletin",
    "Period",
    "Summarizer",
    "Summary",
    "convert_script",
    "detect_language",
    "parse_bulletins",
    "summarize",
]
