"""Faithfulness checks: a generated summary may only state numbers and names its source has.

Numbers are compared after normalisation: full-width digits, thousands separators,
Chinese numerals (二十四, 三成 = 30%), so "2月24日" matches "2-24" and "30%" matches "三成".
"""

from __future__ import annotations

import re
import unicodedata

from summarizer.text import ZH_HANS, convert_script, is_chinese

MIN_OVERLAP = 0.6  # abstractive news summaries reuse most of their wording from the article
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"[零〇一二兩两三四五六七八九十百千]+")
_CN_PERCENT = re.compile(r"([一二三四五六七八九十])成")
_PLACE = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:区|县|市|镇|乡|村|街道|省|州|湖|山|公园|站|港|镇)")
_TITLE_NAME = re.compile(
    r"(?:书记|主任|局长|部长|区长|县长|市长|镇长|村长|校长|院长|记者|经理|董事长|负责人|主席|委员)([\u4e00-\u9fff]{2,3}?)(?=[说表介称指认强在，,。：:“”])"
)
_EN_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)*)")


def _chinese_numeral(text: str) -> int | None:
    """Value of a simple Chinese numeral (二十四, 一百二十); None when it is not one."""
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[char]
            current = 0
        else:
            return None
    return total + current


def numbers(text: str, single_chinese_digits: bool = False) -> set[str]:
    """Every number in ``text`` as a canonical string ("2", "24", "36.5", "30").

    A lone Chinese digit (一 in 一些, 統一) only counts with ``single_chinese_digits``:
    used for the source side, where counting too much only makes the check more lenient.
    """
    folded = unicodedata.normalize("NFKC", text)
    found = {_canonical(m.group(0)) for m in _NUMBER.finditer(folded)}
    for match in _CN_PERCENT.finditer(folded):
        found.add(str(_CN_DIGITS.get(match.group(1), 10) * 10))
    for match in _CN_NUMBER.finditer(folded):
        value = _chinese_numeral(match.group(0))
        if value is not None and (len(match.group(0)) > 1 or single_chinese_digits):
            found.add(str(value))
    return found


def _canonical(number: str) -> str:
    number = number.replace(",", "")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number.lstrip("0") or "0"


def names(text: str, language: str) -> set[str]:
    """Place and person names a summary should not invent (Chinese), proper nouns (English)."""
    if is_chinese(language):  # Latin words in a Chinese summary are names (or garbage) too
        simplified = convert_script(text, ZH_HANS)
        return ({m.group(0) for m in _PLACE.finditer(simplified)} | {m.group(1) for m in _TITLE_NAME.finditer(simplified)}
                | set(re.findall(r"[A-Za-z]{2,}", simplified)))
    return {m.group(1) for m in _EN_PROPER.finditer(text)}


def repeats_itself(summary: str, language: str) -> bool:
    """True when a phrase comes back again and again (a degenerate generation)."""
    units = list(re.sub(r"\s", "", summary)) if is_chinese(language) else summary.lower().split()
    size = 4 if is_chinese(language) else 3
    grams = [tuple(units[i : i + size]) for i in range(len(units) - size + 1)]
    if len(grams) < 4:
        return False
    return len(set(grams)) / len(grams) < 0.6


def _overlap(summary: str, source: str, language: str) -> float:
    """Share of the summary's units found in the source: characters and Latin words for
    Chinese, words for other languages."""
    if is_chinese(language):
        folded_source, folded_summary = convert_script(source, ZH_HANS), convert_script(summary, ZH_HANS)
        known = set(folded_source) | set(re.findall(r"[a-z0-9]+", folded_source.lower()))
        units = [c for c in folded_summary if "\u4e00" <= c <= "\u9fff"] + re.findall(r"[a-z]+", folded_summary.lower())
    else:
        def words(text: str) -> list[str]:
            return re.findall(r"[a-z0-9]+", re.sub(r"(?<=\d),(?=\d)", "", text.lower()))

        known, units = set(words(source)), words(summary)
    return sum(u in known for u in units) / len(units) if units else 1.0


def check_summary(summary: str, source: str, language: str) -> str | None:
    """Why ``summary`` cannot be trusted as a summary of ``source``; None when it passes."""
    if not summary.strip():
        return "empty summary"
    if repeats_itself(summary, language):
        return "summary repeats itself"
    if _overlap(summary, source, language) < MIN_OVERLAP:
        return "summary shares too little wording with the source"
    missing = sorted(numbers(summary) - numbers(source, single_chinese_digits=True), key=len)
    if missing:
        return f"number {missing[0]} is not in the source"
    source_text = convert_script(source, ZH_HANS) if is_chinese(language) else source
    invented = sorted(n for n in names(summary, language) if n not in source_text)
    if invented:
        return f"name {invented[0]!r} is not in the source"
    return None
