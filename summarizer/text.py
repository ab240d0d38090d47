"""Language and script detection, script conversion, sentence splitting, length counting."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

ZH_HANT = "zh-Hant"
ZH_HANS = "zh-Hans"
EN = "en"
UNDETERMINED = "und"
SCRIPTS = (ZH_HANT, ZH_HANS, EN)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")

# search_form: runs of anything but letters and digits, and a space beside a Chinese character
_NON_WORD = re.compile(r"[^\w]+|_+")
_SPACE_BY_CJK = re.compile(r" (?=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])|(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]) ")
# Sentence ends: Chinese and Western terminators, optionally followed by closing quotes/brackets.
_ZH_TERMINATORS = "。！？；!?;…"
_CLOSERS = "”’」』）)】\"'"
_ZH_SENTENCE = re.compile(rf"[^{_ZH_TERMINATORS}]*(?:[{_ZH_TERMINATORS}]+[{_CLOSERS}]*|$)")
_EN_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e u.s u.k a.m p.m no jan feb mar apr jun jul "
    "aug sep sept oct nov dec gov sen rep inc ltd co corp dept est fig approx".split()
)
_EN_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@lru_cache(maxsize=8)
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))  # extension A, unified, compatibility


@lru_cache(maxsize=1)
def _script_only_characters() -> tuple[frozenset[str], frozenset[str], dict[int, str]]:
    """Characters only Traditional writes, characters only Simplified writes, and a
    Traditional-to-Simplified table for single characters.

    Asked of OpenCC itself, one character at a time over the CJK blocks: a character belongs
    to one script when converting it alone to the other script changes it.
    """
    to_simplified, to_traditional = _converter("t2s"), _converter("s2tw")
    characters = [chr(code) for low, high in _CJK_RANGES for code in range(low, high + 1)]
    folding = {ord(ch): simple for ch in characters if len(simple := to_simplified.convert(ch)) == 1 and simple != ch}
    traditional = frozenset(chr(code) for code in folding)
    simplified = frozenset(ch for ch in characters if to_traditional.convert(ch) != ch)
    return traditional, simplified, folding


def convert_script(text: str, target: str) -> str:
    """Convert Chinese text to the script of ``target`` (zh-Hant or zh-Hans); others unchanged."""
    if target == ZH_HANT:  # Taiwan standard characters (為, 著), as Traditional readers write them
        return _converter("s2tw").convert(text)
    if target == ZH_HANS:
        return _converter("t2s").convert(text)
    return text


def for_reader(text: str, text_language: str, reader_language: str) -> str:
    """Chinese text in a Chinese reader's script, converted even when it is labelled with that
    script (pages mix them: 預制菜, 什么 on a Traditional page); anything else unchanged."""
    if is_chinese(text_language) and is_chinese(reader_language):
        return convert_script(text, reader_language)
    return text


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in ``text``."""
    return len(_CJK.findall(text))


def detect_language(text: str, hint: str | None = None) -> str:
    """Return zh-Hant, zh-Hans, en, the normalised ``hint`` for other languages, or ``und``.

    Chinese script is decided by counting characters that only one of the scripts uses
    (sets built once from the converter's dictionaries, so no text is converted here),
    so a Traditional page with a few Simplified characters (common on mainland portals
    that republish in Traditional) is still zh-Hant.
    """
    sample = text[:5000]
    han = cjk_count(sample)
    latin = sum(len(w) for w in _LATIN_WORD.findall(sample))
    if han and han * 2 >= latin / 2:
        traditional, simplified, _ = _script_only_characters()
        traditional_only = sum(ch in traditional for ch in sample)
        simplified_only = sum(ch in simplified for ch in sample)
        return ZH_HANT if traditional_only > simplified_only else ZH_HANS
    if hint:
        normalised = normalise_language_tag(hint)
        if normalised not in (ZH_HANT, ZH_HANS):
            return normalised
    if latin >= 20:
        return _latin_language(sample)
    return UNDETERMINED


def _latin_language(sample: str) -> str:
    """en, or the code of another language written in Latin letters (py3langid's model)."""
    import py3langid

    code, _score = py3langid.classify(sample)
    return EN if code == EN else normalise_language_tag(code)


def normalise_language_tag(tag: str) -> str:
    """Map tags such as ``zh-TW``, ``zh_cn``, ``en-US`` to zh-Hant / zh-Hans / en / base tag."""
    lowered = tag.strip().replace("_", "-").lower()
    if lowered in {"zh-hant", "zh-tw", "zh-hk", "zh-mo"} or lowered.startswith("zh-hant"):
        return ZH_HANT
    if lowered.startswith("zh"):
        return ZH_HANS
    return lowered.split("-")[0] or UNDETERMINED


def is_chinese(language: str) -> bool:
    """True for zh-Hant and zh-Hans."""
    return language in (ZH_HANT, ZH_HANS)


def normalise_for_matching(text: str) -> str:
    """Fold width, case and script (character by character, to Simplified) and drop spaces
    and punctuation: for hashing and shingling."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_script_only_characters()[2])
    return "".join(ch for ch in folded if ch.isalnum())


def search_form(text: str) -> str:
    """Fold width, case and script (to Simplified) like :func:`normalise_for_matching`, but keep
    one space wherever there was space or punctuation between Latin letters or digits: word ends
    matter to Latin keywords ("G5 高速" and "G5高速" are the same)."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_script_only_characters()[2])
    return _SPACE_BY_CJK.sub("", " ".join(_NON_WORD.split(folded)).strip())


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; paragraphs (lines) are always boundaries.

    Chinese terminators 。！？； keep their closing quotes; English splitting skips common
    abbreviations (``Mr.``, ``U.S.``, ``Jan.``) and decimals.
    """
    sentences: list[str] = []
    for paragraph in text.splitlines():
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if cjk_count(paragraph) * 2 >= len(paragraph) / 3:
            parts = [m.group(0).strip() for m in _ZH_SENTENCE.finditer(paragraph)]
        else:
            parts = _split_english(paragraph)
        sentences.extend(p for p in parts if p)
    return sentences


def _split_english(paragraph: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _EN_BOUNDARY.finditer(paragraph):
        candidate = paragraph[start : match.start()]
        last_word = candidate.rsplit(None, 1)[-1].rstrip(".!?\"'”’)]").lower() if candidate.strip() else ""
        if last_word in _EN_ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        parts.append(candidate.strip())
        start = match.end()
    parts.append(paragraph[start:].strip())
    return parts


def text_length(text: str, language: str) -> int:
    """Length as readers count it: characters for Chinese, words otherwise."""
    if is_chinese(language):
        return len(re.sub(r"\s", "", text))
    return len(text.split())


def language_family(language: str) -> str:
    """``zh`` for zh-Hant and zh-Hans (one language, two scripts), else the base tag (``en``)."""
    return "zh" if is_chinese(language) else language.split("-")[0]


# Words that make a headline's leading "X:" label a portal's column or aggregator marker
# (Chinese compared in Simplified); a label without one ("梁平：") is part of the headline.
_LABEL_WORDS = re.compile(
    r"焦点|快讯|简讯|热点|头条|关注|独家|滚动|速递|聚焦|观察|突发|要闻|资讯|动态|新闻|播报|看点|视点|时评|观点|直击|"
    r"今日|每日|最新|实时|早报|晚报|财经|\b(?:breaking|update|exclusive|live|just in|watch|video|opinion|analysis)\b",
    re.IGNORECASE,
)
_BRACKET_LABEL = re.compile(r"^\s*[【\[［]([^】\]］]{1,10})[】\]］]\s*")
_COLON_LABEL = re.compile(r"^\s*([^:：\s][^:：]{0,9}?)\s*[:：]\s*")


def strip_title_label(title: str) -> str:
    """``title`` without leading aggregator/column labels: a short bracketed tag (【滾動】) or a
    short ``X:`` / ``X：`` whose X names a column (環球觀焦點:, 快訊：, 今日頭條:). A place or a
    speaker before the colon (梁平：春耕忙) stays; a title that is only a label is kept."""
    while True:
        bracket = _BRACKET_LABEL.match(title)
        colon = _COLON_LABEL.match(title)
        if bracket:
            rest = title[bracket.end() :]
        elif colon and _LABEL_WORDS.search(convert_script(colon.group(1), ZH_HANS)):
            rest = title[colon.end() :]
        else:
            return title
        if not rest.strip():
            return title
        title = rest


def text_problem(text: str) -> str | None:
    """Why ``text`` is not text a summarizer should read (binary data decoded as text, markup,
    no words); None when it is text."""
    sample = text[:20000]
    visible = [c for c in sample if not c.isspace()]
    if not visible:
        return "it is empty"
    if sample.startswith(("\x1f\x8b", "PK\x03\x04", "%PDF", "\x89PNG", "BZh")):
        return "it is compressed or binary data (a file's bytes, not its text)"
    controls = sum(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") or c == "\ufffd" for c in visible)
    if controls > 0.01 * len(visible):
        return "it holds control or undecodable characters: binary data, or text in an unknown encoding"
    letters = sum(c.isalpha() for c in visible)
    if letters < 0.4 * len(visible):
        return "it is mostly symbols and digits, not sentences"
    return None


# Signatures that open binary formats a user may hand over as a text or a page by mistake.
_BINARY_SIGNATURES = {
    b"\x1f\x8b": "gzip-compressed data (decompress it first)",
    b"BZh": "bzip2-compressed data (decompress it first)",
    b"\xfd7zXZ\x00": "xz-compressed data (decompress it first)",
    b"\x28\xb5\x2f\xfd": "zstd-compressed data (decompress it first)",
    b"PK\x03\x04": "a zip archive (or a document made of one: docx, xlsx, epub)",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"%PDF-": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"\x7fELF": "an ELF executable",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 text holds NUL bytes


def binary_problem(data: bytes) -> str | None:
    """Why the bytes ``data`` are not a text or a page (a compressed, archive, document, image or
    executable format, or NUL bytes in the first 8 KB); None when they may be text."""
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            return f"it is {what}"
    if b"\x00" in data[:8192] and not data.startswith(_UTF16_BOMS):
        return "it holds NUL bytes: binary data, not text"
    return None


def bounded(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at the last sentence end before it (the
    news of an article is at its top; the rest would only cost time and memory)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [head.rfind(mark) for mark in "。！？!?.\n"]
    cut = max(ends)
    return head[: cut + 1] if cut > limit // 2 else head
