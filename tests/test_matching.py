"""Keyword matching (bot/matching.py): parsing, validation, whole-word and script-insensitive
matching, and the Aho-Corasick matcher against a naive reference."""

from __future__ import annotations

import random

import pytest

from bot.matching import MAX_KEYWORD_CHARS, KeywordMatcher, keyword_problem, mentions, parse_keywords
from summarizer.text import search_form


def _both(text: str, keyword: str) -> tuple[bool, bool]:
    """Whether ``keyword`` is found in ``text`` (both raw) by ``mentions`` and by a one-keyword matcher."""
    text_form, keyword_form = search_form(text), search_form(keyword)
    by_matcher = KeywordMatcher([("owner", keyword_form)]).matches(text_form)
    assert by_matcher in ({}, {"owner": keyword_form})
    return mentions(text_form, keyword_form), bool(by_matcher)


@pytest.mark.parametrize(
    "text, keyword, expected",
    [
        # script-insensitive, both ways
        ("京滬高鐵今日通車", "高铁", True),
        ("京沪高铁今日通车", "高鐵", True),
        ("預製菜進校園引發爭議", "预制菜", True),
        ("预制菜进校园引发争议", "預制菜", True),
        ("梁平區發布暴雨預警", "梁平区", True),
        ("京沪高速今日通车", "高鐵", False),
        # case and full width
        ("ＲＡＩＮ expected tonight", "rain", True),
        ("Heavy rain tonight", "ＲＡＩＮ", True),
        ("HEAVY RAIN TONIGHT", "Rain", True),
        ("ｒｏａｄ　ｃｌｏｓｕｒｅ ahead", "Road Closure", True),
        # Latin keywords: whole words at both edges
        ("the train left late", "rain", False),
        ("talks on Ukraine resume", "rain", False),
        ("record rainfall in May", "rain", False),
        ("spring rains", "rain", False),
        ("a rain-fed crop", "rain", True),  # punctuation is a word end
        ("rain, then sun", "rain", True),
        ("the train left before the rain", "rain", True),  # a later whole-word occurrence counts
        ("road closures on G5", "road closure", False),
        ("Road-closure notice", "road closure", True),
        ("roadclosure", "road closure", False),  # spaces in a keyword are not optional
        # Latin keywords next to Chinese: Chinese characters are word ends
        ("苹果iPhone发布会", "iphone", True),
        ("苹果iPhone15发布会", "iphone", False),  # digits are word characters
        ("中国AI产业", "ai", True),
        ("中国FAIR产业", "ai", False),
        # Chinese keywords match anywhere, Latin neighbours included
        ("abc梁平区def", "梁平", True),
        ("iPhone发布会", "发布", True),
        # mixed keywords: the Latin edge is whole-word, the Chinese edge is not
        ("沪渝G5 高速梁平段封闭", "G5 高速", True),
        ("G5 高速", "g5 高速", True),
        ("G55 高速梁平段封闭", "G5 高速", False),
        ("AG5 高速梁平段封闭", "G5 高速", False),
        ("沪渝高速G5封闭", "高速G5", True),
        ("沪渝高速G55封闭", "高速G5", False),
        # digits
        ("新增12個病例", "12", True),
        ("新增12个病例", "12個", True),
        ("新增１２個病例", "12个", True),
        ("新增112個病例", "12個", False),
        ("新增120個病例", "12", False),
        ("2025年梁平", "25", False),
        ("covid19 cases", "19", False),
        ("第12届运动会", "12", True),
        # at the very start and end, and the whole text
        ("rain at dawn", "rain", True),
        ("dawn rain", "rain", True),
        ("rain", "rain", True),
        ("梁平今天晴", "梁平", True),
        ("今天晴在梁平", "梁平", True),
        ("梁平", "梁平", True),
        ("rai", "rain", False),
    ],
)
def test_mentions(text: str, keyword: str, expected: bool) -> None:
    assert _both(text, keyword) == (expected, expected)


@pytest.mark.parametrize(
    "text, keyword, start, expected",
    [
        ("train rain", "rain", 1, False),
        ("train rain", "rain", 6, True),
        ("rainfall rain", "rain", 0, False),
        ("rainfall rain", "rain", 9, True),
        ("梁平区", "梁平", 0, True),
    ],
)
def test_mentions_checks_only_the_occurrence_at_start(text: str, keyword: str, start: int, expected: bool) -> None:
    assert mentions(text, keyword, start) is expected


def test_mentions_finds_an_overlapping_occurrence() -> None:
    # "bye bye" occurs at 4 (inside "goodbye", not a whole word) and, overlapping it, at 8 (whole words)
    assert KeywordMatcher([(1, "bye bye")]).matches("goodbye bye bye") == {1: "bye bye"}
    assert mentions("goodbye bye bye", "bye bye")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("高鐵, 地震，暴雨", ["高鐵", "地震", "暴雨"]),
        ("高鐵、地震；暴雨;洪水", ["高鐵", "地震", "暴雨", "洪水"]),
        ("rain snow   wind", ["rain", "snow", "wind"]),  # no separator: spaces split
        ("road closure, rain", ["road closure", "rain"]),  # a separator: spaces stay inside
        ("road   closure ,rain", ["road closure", "rain"]),  # inner whitespace collapsed
        ('"road closure" rain', ["road closure", "rain"]),
        ("“road works” snow", ["road works", "snow"]),
        ("「梁平 區」 地震", ["梁平 區", "地震"]),
        ("「梁平 區」、地震", ["梁平 區", "地震"]),
        ("高鐵, 高铁, Rain, RAIN, ｒａｉｎ", ["高鐵", "Rain"]),  # repeats across script, case, width
        ("rain 高鐵 rain 高铁", ["rain", "高鐵"]),
        ("c, b, a", ["c", "b", "a"]),  # order kept
        ("地震 暴雨 地震", ["地震", "暴雨"]),
        ("", []),
        ("   ", []),
        (",,、；", []),
        ('""', ['""']),  # an empty quote is no phrase; keyword_problem judges what is left
    ],
)
def test_parse_keywords(text: str, expected: list[str]) -> None:
    assert parse_keywords(text) == expected


def test_parse_keywords_keeps_quoted_phrases_in_place() -> None:
    assert parse_keywords('rain, "road closure", snow') == ["rain", "road closure", "snow"]


@pytest.mark.parametrize(
    "keyword, expected",
    [
        ("高", "short"),
        ("a", "short"),
        ("7", "short"),
        ("高 ！", "short"),  # punctuation does not count
        ("ab", None),
        ("12", None),
        ("高铁", None),
        ("ＲＡＩＮ", None),
        ("G5 高速", None),
        ("x" * MAX_KEYWORD_CHARS, None),
        ("x" * (MAX_KEYWORD_CHARS + 1), "long"),
        ("高" * 41, "long"),
        ("!!!", "empty"),
        ("「」，。", "empty"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_keyword_problem(keyword: str, expected: str | None) -> None:
    assert keyword_problem(keyword) == expected


@pytest.mark.parametrize(
    "keywords, text, expected",
    [
        # several owners of one keyword
        ([(1, "高铁"), (2, "高铁"), (3, "地震")], "京沪高铁通车", {1: "高铁", 2: "高铁"}),
        # one owner with several keywords: one entry, the first keyword found in the text
        ([(1, "高铁"), (1, "地震")], "地震后高铁停运", {1: "地震"}),
        ([(1, "高铁"), (1, "地震")], "高铁因地震停运", {1: "高铁"}),
        ([(1, "rain"), (1, "rain")], "heavy rain", {1: "rain"}),
        # overlapping keywords
        ([(1, "梁平"), (2, "梁平区")], "重庆梁平区发布", {1: "梁平", 2: "梁平区"}),
        ([(1, "梁平"), (2, "梁平区")], "重庆梁平县志", {1: "梁平"}),
        ([(1, "梁平区"), (1, "梁平")], "重庆梁平区发布", {1: "梁平"}),
        ([(1, "rain"), (2, "train")], "the train", {2: "train"}),
        ([(1, "rain"), (2, "train")], "the train in the rain", {1: "rain", 2: "train"}),
        ([(1, "road"), (2, "road closure")], "road closure", {1: "road", 2: "road closure"}),
        # whole words per occurrence: a failed occurrence does not hide a later one
        ([(1, "rain")], "train rainfall rain", {1: "rain"}),
        ([(1, "rain")], "train rainfall ukraine", {}),
        # at the very start and end
        ([(1, "rain"), (2, "dawn")], "rain at dawn", {1: "rain", 2: "dawn"}),
        ([(1, "梁平"), (2, "预报")], "梁平天气预报", {1: "梁平", 2: "预报"}),
        # owners are any hashable; empty forms are ignored
        ([(("chat", 7), "高铁"), (("chat", 8), "")], "高铁", {("chat", 7): "高铁"}),
    ],
)
def test_keyword_matcher(keywords: list, text: str, expected: dict) -> None:
    assert KeywordMatcher(keywords).matches(text) == expected


@pytest.mark.parametrize("keywords", [[], [(1, "")]])
def test_empty_matcher_matches_nothing(keywords: list) -> None:
    matcher = KeywordMatcher(keywords)
    assert matcher.matches("梁平 rain") == {}
    assert matcher.matches("") == {}


def _reference(text: str, keyword: str) -> bool:
    """Written independently of bot/matching.py: ``keyword`` at any index of ``text``, overlapping
    occurrences included, with no ASCII letter or digit glued to a Latin edge."""
    def glued(a: str, b: str) -> bool:
        return all(ch.isascii() and ch.isalnum() for ch in a + b)

    for at in range(len(text) - len(keyword) + 1):
        if text.startswith(keyword, at):
            if (at == 0 or not glued(text[at - 1], keyword[0])) and \
               (at + len(keyword) == len(text) or not glued(keyword[-1], text[at + len(keyword)])):
                return True
    return False


_TOKENS = ("a", "b", "ab", "a1", "高铁", "高鐵", "區", "区")  # Traditional 鐵/區 fold to Simplified
_FEW_TOKENS = ("a", "ab", "高")  # self-overlapping keywords such as "ab a" are common
_JOINERS = ("", " ", " ", ", ")


def _random_cases(seed: int, count: int, tokens: tuple[str, ...] = _TOKENS) -> list[tuple[list[tuple[int, str]], str]]:
    """(keywords, text) pairs in search form, drawn from a small alphabet of Latin letters, digits,
    spaces, punctuation and Chinese characters (as short tokens, so that repeated words, near
    misses such as "ab" around "a", and overlapping keywords are common)."""
    rng = random.Random(seed)

    def phrase(least: int, most: int) -> str:
        return "".join(rng.choice(tokens) + rng.choice(_JOINERS) for _ in range(rng.randint(least, most)))

    cases = []
    for _ in range(count):
        keywords = [(owner % 4, form) for owner in range(rng.randint(1, 6))  # some owners hold several keywords
                    if (form := search_form(phrase(1, 3)))]
        cases.append((keywords, search_form(phrase(0, 15))))
    return cases


@pytest.mark.parametrize("tokens", [_TOKENS, _FEW_TOKENS])
def test_matcher_agrees_with_reference(tokens: tuple[str, ...]) -> None:
    hits = misses = 0
    for keywords, text in _random_cases(seed=20250303, count=600, tokens=tokens):
        found = KeywordMatcher(keywords).matches(text)
        expected = {owner for owner, kw in keywords if _reference(text, kw)}
        assert set(found) == expected, (keywords, text)
        assert all(_reference(text, kw) and (owner, kw) in keywords for owner, kw in found.items()), (keywords, text)
        hits += len(expected)
        misses += len({owner for owner, _ in keywords} - expected)
    assert hits > 300 and misses > 300  # the draw exercises both outcomes


def test_matcher_agrees_with_naive_mentions_on_chinese_and_non_overlapping_keywords() -> None:
    """The naive loop ``{owner for owner, kw in keywords if mentions(text, kw)}`` agrees with the
    matcher, for every keyword that cannot overlap itself with a failed Latin edge (see
    test_mentions_finds_an_overlapping_occurrence for the rest)."""
    def self_overlapping(kw: str) -> bool:
        return any(kw[i:] == kw[: len(kw) - i] for i in range(1, len(kw)))

    compared = 0
    for keywords, text in [*_random_cases(seed=7, count=600), *_random_cases(seed=7, count=600, tokens=_FEW_TOKENS)]:
        keywords = [(owner, kw) for owner, kw in keywords if not self_overlapping(kw)]
        naive = {owner for owner, kw in keywords if mentions(text, kw)}
        assert set(KeywordMatcher(keywords).matches(text)) == naive, (keywords, text)
        compared += len(keywords)
    assert compared > 2000


def test_matcher_agrees_with_naive_mentions() -> None:
    for keywords, text in _random_cases(seed=7, count=1000, tokens=_FEW_TOKENS):  # about 1 case in 150 hits that
        naive = {owner for owner, kw in keywords if mentions(text, kw)}
        assert set(KeywordMatcher(keywords).matches(text)) == naive, (keywords, text)
