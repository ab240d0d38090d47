"""The digest's lead: two or three sentences written by a causal (or inference-server) model from
the forecast and the top stories, in the reader's language and script.

A lead is checked before it is used (:func:`check_lead`): every number and place in it must be
in the forecast or the stories. Without a lead profile, or when its model is unavailable, fails,
or writes a lead that fails the check, there is no lead (logged, with the reason): the digest
opens with the deterministic weather text instead.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol, cast

from summarizer.api import FAITHFULNESS, Summarizer, _failure
from summarizer.backends.extractive import fit_to_budget
from summarizer.checks import names, repeats_itself
from summarizer.profiles import CAUSAL, OPENAI, ProfileError
from summarizer.quantities import numbers
from summarizer.text import EN, ZH_HANS, ZH_HANT, cjk_count, convert_script, detect_language, is_chinese, split_sentences

log = logging.getLogger(__name__)

NO_PROFILE = "no lead profile"
MAX_STORIES = 3  # stories the model is given, most important first
MAX_SENTENCES = 3
MAX_CHARS = 160  # a Chinese lead's budget, in characters
MAX_WORDS = 70  # an English lead's budget, in words
TOKENS_PER_UNIT = 3  # new tokens allowed per character (Chinese) or word of the budget: room to end a sentence
_PROMPTS = {  # the user message; Chinese written in Simplified, converted to the reader's script
    "zh": "请用{script}为今天的本地新闻简报写开场白：两到三句话，总共不超过{max_chars}字。先讲天气，再讲最重要的一两条新闻。"
    "只用下面提供的事实，数字、日期和地名照原文写。只回复开场白本身。\n\n天气：{weather}\n\n要闻：\n{stories}",
    EN: "Write the opening of today's local news digest in English: two or three sentences, at most {max_words} words "
    "in all. Begin with the weather, then the top story or two. Use only the facts below; keep every number, date "
    "and place name exactly as written. Answer with the opening alone.\n\nWeather: {weather}\n\nTop stories:\n{stories}",
}
_SCRIPT_NAMES = {ZH_HANS: "简体中文", ZH_HANT: "繁体中文"}
# Chinese place names end in one or more of these (compared in Simplified: 万州区), unless the
# character starts a common word (市场, 区域, 村民, 路面).
_PLACE_ENDS = "区县市镇乡村省州路街"
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{1,6}?(?:区(?!域)|县(?![城级])|市(?![场民级])|镇|乡(?![村镇])|村(?![民庄级])|省(?![份级])"
    r"|州|路(?![面段口况上线])|街(?![头道]))+"
)
_BEFORE_PLACE = frozenset("天日在的和与及至到从于往向对、")  # common word ends: a place name starts after them
# Words with such an ending that name no place: the whole city, urban areas, roads.
_GENERIC_PLACES = frozenset(
    {prefix + end for prefix in "全本该各每" for end in _PLACE_ENDS}
    | set(
        "城市 超市 都市 城区 市区 地区 山区 社区 小区 景区 园区 辖区 郊区 片区 街区 农村 乡村 山村 "
        "道路 公路 马路 铁路 线路 一路 沿路 上路 出路 上街".split()
    )
)
# checks.names' Chinese place names end so: :func:`_unknown_place` judges them instead.
_CHECKS_PLACE_ENDS = tuple("区县市镇乡村道省州湖山园站港")


@dataclass
class Lead:
    """A digest's lead, or why there is none (``text`` None).

    ``profile`` and ``model`` wrote it, or were tried (None when no lead profile is configured);
    ``fallback`` is True when a lead profile exists but its lead is not used, ``reason`` says why.
    """

    text: str | None
    language: str
    profile: str | None
    model: str | None
    fallback: bool
    reason: str | None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


class _TextWriter(Protocol):
    def generate_text(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]: ...


def lead_profile(summarizer: Summarizer, language: str) -> str | None:
    """The profile that writes leads for readers of ``language``: models.yaml's ``lead``, else
    the profile routed for the language when it is causal or openai; None when there is none
    (then no lead is attempted)."""
    config = summarizer.config
    if config.lead:
        return config.lead
    routed = config.route(language)
    return routed if config.profiles[routed].kind in (CAUSAL, OPENAI) else None


def lead_prompt(weather: str, stories: Sequence[tuple[str, str]], language: str) -> str:
    """The request for a lead, in ``language``: the forecast and the (title, summary) stories."""
    chinese = is_chinese(language)
    template = convert_script(_PROMPTS["zh"].replace("{script}", _SCRIPT_NAMES[language]), language) if chinese else _PROMPTS[EN]
    colon = "：" if chinese else ": "
    items = "\n".join(f"- {title}{colon}{summary}" if summary else f"- {title}" for title, summary in stories)
    return template.format(max_chars=MAX_CHARS, max_words=MAX_WORDS, weather=weather.strip(), stories=items)


def write_lead(
    summarizer: Summarizer, weather: str, stories: Sequence[tuple[str, str]], language: str, profile: str | None = None
) -> Lead:
    """A lead for readers of ``language`` (zh-Hant, zh-Hans, en) by ``profile`` (else
    :func:`lead_profile`'s): the weather first, then the top story or two.

    ``weather`` is the deterministic forecast text and ``stories`` are (title, summary) pairs,
    most important first (the first MAX_STORIES are used), all in the reader's language and
    script. The model's output is converted to the reader's script, cut to MAX_SENTENCES
    sentences and the budget, then checked (:func:`check_lead`). A model that is unavailable or
    fails, and a lead that fails the check, give no lead (``fallback``, with the reason); so does
    a missing lead profile (not a fallback). ProfileError only for a ``profile`` that is unknown
    or not causal or openai.
    """
    name = summarizer.profile_for(language, profile) if profile else lead_profile(summarizer, language)
    if name is None:
        return Lead(None, language, None, None, False, NO_PROFILE)
    settings = summarizer.config.profiles[name]
    if settings.kind not in (CAUSAL, OPENAI):
        raise ProfileError(f"profile {name!r} is {settings.kind}; a causal or openai profile writes leads")
    stories = list(stories)[:MAX_STORIES]
    limit = TOKENS_PER_UNIT * (MAX_CHARS if is_chinese(language) else MAX_WORDS)
    try:
        writer = cast(_TextWriter, summarizer._transformer(name))
        [written] = writer.generate_text([lead_prompt(weather, stories, language)], limit)
    except Exception as exc:  # out of memory, a server that is down: the digest goes on without a lead
        reason = _failure(exc)
        log.warning("no lead for %s readers from profile %s: %s", language, name, reason)
        return Lead(None, language, name, settings.model, True, reason)
    text = _trim(written, language)
    sources = "\n".join([weather, *(f"{title}\n{summary}" for title, summary in stories)])
    problem = check_lead(text, sources, language)
    if problem:
        reason = f"{FAITHFULNESS}: {problem}"
        log.info("lead for %s readers from profile %s rejected (%s): %r", language, name, reason, text)
        return Lead(None, language, name, settings.model, True, reason)
    return Lead(text, language, name, settings.model, False, None)


def check_lead(lead: str, sources: str, language: str) -> str | None:
    """Why ``lead`` cannot be trusted as written for readers of ``language`` from ``sources``
    (the forecast and the stories); None when it passes. Rejected: an empty or repeating lead,
    one in another language, and one with a number (compared by value: 8°C = 8, 二十四 = 24,
    20萬 = 200,000), a place or a name (compared across scripts) that the sources do not have."""
    if not lead.strip():
        return "empty lead"
    if repeats_itself(lead, language):
        return "lead repeats itself"
    if is_chinese(language) and not is_chinese(detect_language(lead)):
        return "lead is not in Chinese"
    if not is_chinese(language) and (cjk_count(lead) or not re.search(r"[A-Za-z]{2,}", lead)):
        return "lead is not in English"
    missing = sorted(numbers(lead) - numbers(sources, lenient=True), key=len)
    if missing:
        return f"number {missing[0]} is not in the sources"
    folded_lead, folded_sources = _fold(lead), _fold(sources)
    if is_chinese(language):
        place = _unknown_place(folded_lead, folded_sources)
        if place:
            return f"place {convert_script(place, language)!r} is not in the sources"
        found = {
            convert_script(n, language)
            for n in names(lead, language)  # Latin words, people
            if not n.endswith(_CHECKS_PLACE_ENDS)
        }
    else:
        found = names(lead, language)  # proper nouns
    unknown = sorted(n for n in found if _fold(n) not in folded_sources)
    if unknown:
        return f"name {unknown[0]!r} is not in the sources"
    return None


def _unknown_place(lead: str, sources: str) -> str | None:
    """The first place in ``lead`` that ``sources`` lack (both folded), as its last three
    characters. Without word boundaries, a place is known when the sources have it with the two
    characters before its last (梁平区 in 今天梁平区), or with one where the name starts there:
    the whole match, or after a common word end (忠县 in 今天忠县)."""
    for match in _PLACE.finditer(lead):
        place = match.group(0)
        if place[-2:] in _GENERIC_PLACES:
            continue
        known = 0  # characters before the last that the sources have with it
        while known < len(place) - 1 and place[-known - 2 :] in sources:
            known += 1
        starts_there = known == len(place) - 1 or place[-known - 2] in _BEFORE_PLACE
        if known < 2 and not (known and starts_there):
            return place[-3:]
    return None


def _fold(text: str) -> str:
    """``text`` for comparing: width folded (NFKC), Simplified, lower case."""
    return convert_script(unicodedata.normalize("NFKC", text), ZH_HANS).lower()


def _trim(text: str, language: str) -> str:
    """A model's lead in the reader's script, cut to MAX_SENTENCES sentences and the budget."""
    chinese = is_chinese(language)
    text = convert_script(text, language) if chinese else " ".join(text.split())
    sentences = split_sentences(text)[:MAX_SENTENCES]
    return fit_to_budget(("" if chinese else " ").join(sentences), MAX_CHARS if chinese else MAX_WORDS, language)
