"""Pure summarization library: text in, summary out.

No Telegram, no database, no network (but an inference-server profile's requests, in its
backend): the service in ``bot/`` wraps it.
"""

from summarizer.api import Summarizer, Summary, summarize
from summarizer.text import convert_script, detect_language
from summarizer.weather import Bulletin, Period, parse_bulletins

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
