"""Words as a faithfulness check reads them: Chinese segmented with part-of-speech tags (jieba's
dictionary: person, place and organisation names), English lemmatized (simplemma), content
words, names and negation cues of a text.

Chinese is read in Simplified (both scripts compare alike); English case-insensitively, with a
word's case in the article telling whether it is a name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from summarizer.quantities import NUMBER_WORDS
from summarizer.text import ZH_HANS, convert_script, is_chinese, split_sentences

# Tags of jieba's dictionary that name someone or something: people, places, organisations,
# other proper nouns.
_NAME_TAGS = ("nr", "nrfg", "nrt", "ns", "nt", "nz")
COMMON_WORD = 5000  # jieba's dictionary tags some everyday words as places (东西): seen this often, a word names nothing
_CONTENT_TAGS = ("n", "v", "a", "vn", "an", "ad", "i", "l", "j", "z", "b", "s")
_ZH_NEGATIONS = frozenset(
    "不 未 没 没有 无 非 别 勿 未能 不能 不会 未曾 尚未 并未 并非 无法 否认 拒绝 暂停 取消 停止 禁止 暂缓 推迟 "
    "叫停 不再 未予 不予 不得 从未 未有 否决".split()
)
_ZH_STOP = frozenset(
    "的 了 在 是 和 与 及 等 将 对 于 为 也 有 被 把 由 从 向 到 就 都 而 并 其 该 此 这 那 之 以 上 中 下 "
    "个 年 月 日 时 我们 他们 表示 介绍 指出 称 说 据 进行 开展 相关 有关 工作 方面 今年 目前 近日 日前 当天 "
    "今天 昨天 本 各 全 约 近 超过 达 达到 共 余 多 其中 以及 同时 通过 已 已经 正在 记者 报道 获悉".split()
)
_EN_STOP = (
    frozenset(
        "a an the and or but if of to in on at by for with from as into onto over under about after before between "
        "during through since until against among per via than then so that this these those there here it its it's "
        "he she they them his her their him we our you your i me my be is are was were been being am do does did done "
        "have has had having will would shall should can could may might must also just only very more most less "
        "least much many some any each every all both either neither other such own same which who whom whose what "
        "when where why how while said says say told according new up down out off again further once not no nor "
        "never n't s".split()
    )
    | NUMBER_WORDS
)
_EN_NEGATIONS = frozenset(
    "not no never n't nor neither none nobody nothing without deny denies denied denying refuse refuses refused "
    "reject rejects rejected cancel cancels cancelled canceled fail fails failed halt halted suspend suspended "
    "postpone postponed scrap scrapped unable".split()
)
_EN_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|\d+(?:[.,]\d+)*")
_CLAUSE = re.compile(
    r"[，；;。！？!?：:]+|(?<!\d),|,(?!\d{3})|\s(?:and|but|while|after|as|which|who|although|though|because|"
    r"so|since|before|when|whereas|with)\s",
    re.I,
)
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
    "july august september october november december".split()
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”]\s*)$")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Token:
    """One word: as written (Chinese in Simplified), its comparison form (English lemma,
    lower-cased; Chinese as is), and whether it is a name."""

    text: str
    key: str
    name: bool
    content: bool
    negation: bool
    place: bool = False


@lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _jieba_frequency(word: str) -> int:
    """How often jieba's dictionary has seen ``word`` (0: a word its model made up)."""
    import jieba

    return jieba.dt.FREQ.get(word) or 0


@lru_cache(maxsize=256)
def _zh_tokens(text: str) -> tuple[Token, ...]:
    tokens = []
    for word, flag in _jieba().lcut(text):
        word = word.strip()
        if not word:
            continue
        name = flag in _NAME_TAGS and len(word) >= 2 and _jieba_frequency(word) < COMMON_WORD
        negation = word in _ZH_NEGATIONS
        content = (
            (name or flag.startswith(_CONTENT_TAGS))
            and word not in _ZH_STOP
            and not negation
            and bool(re.search(r"[\u4e00-\u9fff]", word))
        )
        tokens.append(Token(word, word, name, content, negation, name and flag == "ns"))
        if not re.search(r"[\u4e00-\u9fff]", word) and re.fullmatch(r"[A-Za-z]{2,}", word):
            tokens[-1] = Token(word, word.lower(), True, True, False)  # Latin words in Chinese: names (or garbage)
    return tuple(tokens)


@lru_cache(maxsize=4096)
def _lemma(word: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang="en").lower()


@lru_cache(maxsize=256)
def _en_tokens(text: str) -> tuple[Token, ...]:
    tokens = []
    for match in _EN_WORD.finditer(text):
        word = match.group(0).replace("’", "'")
        lower = word.lower()
        if lower.endswith("n't"):
            stem = lower[:-3]
            tokens.append(Token(word, _lemma(stem) if stem else stem, False, stem not in _EN_STOP, False))
            tokens.append(Token("n't", "not", False, False, True))
            continue
        lower = lower.removesuffix("'s")
        at_start = bool(_SENTENCE_START.search(text[max(0, match.start() - 3) : match.start()]))
        capitalized = word[0].isupper() and not at_start
        negation = lower in _EN_NEGATIONS
        content = not lower[0].isdigit() and lower not in _EN_STOP and not negation and len(lower) > 1
        name = capitalized and content and lower.removesuffix("s") not in _CALENDAR  # weekdays and months: dates, checked as such
        tokens.append(Token(word, _lemma(lower) if content else lower, name, content, negation))
    return tuple(tokens)


def tokens(text: str, language: str) -> tuple[Token, ...]:
    """The words of ``text`` (Chinese: in Simplified, segmented; others: English rules)."""
    if is_chinese(language):
        return _zh_tokens(convert_script(text, ZH_HANS))
    return _en_tokens(text)


def folded(text: str, language: str) -> str:
    """``text`` as names are looked up in it: Simplified Chinese, or lower case."""
    return convert_script(text, ZH_HANS) if is_chinese(language) else text.lower()


@lru_cache(maxsize=64)
def article_names(source: str, language: str) -> frozenset[str]:
    """The article's names (keys): Chinese words jieba tags so; English words the article writes
    capitalized inside sentences and never in lower case, whatever case a summary gives them."""
    if is_chinese(language):
        return frozenset(t.key for t in tokens(source, language) if t.name)
    read = _en_tokens(source)
    lower = {t.key for t in read if t.content and t.text.islower()}
    return frozenset(t.key for t in read if t.name and t.key not in lower)


def clauses(text: str) -> list[str]:
    """``text`` cut at clause ends (commas, semicolons, sentence ends, "and"/"but")."""
    return [c.strip() for c in _CLAUSE.split(text) if c and c.strip()]


def sentences(text: str, language: str) -> list[str]:
    """The sentences of ``text`` (Chinese converted to Simplified)."""
    return split_sentences(folded(text, language) if is_chinese(language) else text)
