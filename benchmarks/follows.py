"""Keyword-follow matching at scale: one Aho-Corasick ``KeywordMatcher`` against a naive loop.

Synthetic, deterministic data (``--seed``): N follows (default 100,000) over K distinct keywords
(default 20,000: about 90 % Chinese 2–4-character words built from common characters, the rest
English words and two-word phrases), each keyword followed by several chats (owners); and M
stories (default 1,000) of about 800 Chinese characters each, made of keywords, filler words,
punctuation and a few English words and numbers, every other one written in Traditional.

Figures: ``search_form`` over the M raw stories; building the matcher from the N follows (what
``Follows.match_new_stories`` does once per pass); matching the M stories with it; and the naive
baseline, which for each story loops over every distinct keyword with ``in`` then ``mentions``
and collects the owners: on all M stories by default (about 20 s for 1,000 here), or on the first
``--baseline-stories`` with its time scaled to M; both are checked to find the same chats. Peak
RSS is ``ru_maxrss`` (the whole process, data included) after each step; the automaton's own
size is pyahocorasick's ``get_stats()``.

    python benchmarks/follows.py [--follows 100000] [--stories 1000] [--keywords 20000] [--baseline-stories M]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.matching import KeywordMatcher, mentions  # noqa: E402
from summarizer.text import cjk_count, convert_script, search_form  # noqa: E402

T = TypeVar("T")
MiB = 1024 * 1024

COMMON = (  # about 500 frequent Simplified characters
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    "多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还"
    "因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结"
    "解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级"
    "少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研质信县市镇村街道桥站港湾河"
    "湖江海岸雨雪风雷电云雾冰温热冷旱涝灾害防汛救援医院学校教育考试招生就业工资企业工厂市场价格消费投资银行保险股票"
    "房屋住宅土地交通铁路公路航空机场列车地铁公交出租汽车事故警察法院检察安全消防环境污染森林草原农田粮食蔬菜水果"
    "猪肉牛羊鸡鸭鱼虾茶酒烟糖油盐米面蛋奶疫苗病毒感染检测隔离治疗药品手术患者医生护士儿童老人妇女青年学生家长游客"
)
ENGLISH = (
    "rain snow storm flood typhoon heat wave traffic road closure bridge tunnel railway metro airport flight delay "
    "school exam hospital vaccine virus outbreak election council budget tax price market stock bank loan housing "
    "rent factory export import trade tariff energy power outage water supply fire police court crime festival "
    "concert museum tourism hotel restaurant food safety recall earthquake landslide drought harvest farm pork rice "
    "tea coffee china chongqing liangping shanghai beijing hong kong taiwan japan korea russia ukraine europe africa "
    "apple huawei tesla byd xiaomi ai chip battery solar wind nuclear coal oil gas carbon climate pollution river "
    "lake forest panda bird wetland park stadium football basketball olympics marathon police army navy space rocket"
).split()
FILLER = "的了在是和有也就都而及与对从把被"
PUNCTUATION = "，，，。、；：！？“”（）"


def make_keywords(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct keywords in search form: Chinese 2–4-character words, English words and pairs."""
    english = set(ENGLISH) | {f"{a} {b}" for a in ENGLISH for b in ENGLISH if a != b}
    english_wanted = min(count // 10, len(english))
    keywords = set(rng.sample(sorted(english), english_wanted))
    while len(keywords) < count:
        keywords.add("".join(rng.choices(COMMON, k=rng.choice((2, 2, 3, 4)))))
    return sorted(keywords, key=lambda kw: rng.random())  # a fixed, shuffled order


def make_follows(rng: random.Random, keywords: list[str], count: int) -> list[tuple[int, str]]:
    """``count`` distinct (chat id, keyword) pairs: every keyword at least once, chats among count / 4."""
    chats = max(1, count // 4)
    follows = {(rng.randrange(chats), keyword) for keyword in keywords[:count]}
    while len(follows) < count:
        follows.add((rng.randrange(chats), rng.choice(keywords)))
    return sorted(follows, key=lambda pair: rng.random())


def make_story(rng: random.Random, keywords: list[str], chinese_chars: int) -> str:
    """A raw story of about ``chinese_chars`` Chinese characters: keywords, filler and punctuation."""
    parts: list[str] = []
    written = 0
    while written < chinese_chars:
        roll = rng.random()
        if roll < 0.05:
            parts.append(f" {rng.choice(ENGLISH).capitalize()} ")
        elif roll < 0.08:
            parts.append(f"{rng.randrange(1, 3000)}")
        elif roll < 0.25:
            word = rng.choice(keywords)
            parts.append(word if not word.isascii() else f" {word} ")
            written += 0 if word.isascii() else len(word)
        else:
            word = "".join(rng.choices(COMMON, k=rng.randint(1, 4))) + rng.choice(FILLER)
            parts.append(word)
            written += len(word)
        if rng.random() < 0.12:
            parts.append(rng.choice(PUNCTUATION))
    return "".join(parts)


def naive_matches(text_form: str, owners: dict[str, list[int]]) -> dict[int, str]:
    """The baseline: every distinct keyword in turn, ``in`` first, then ``mentions``."""
    found: dict[int, str] = {}
    for keyword, keys in owners.items():
        if keyword in text_form and mentions(text_form, keyword):
            for key in keys:
                found.setdefault(key, keyword)
    return found


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MiB  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--follows", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=1_000)
    parser.add_argument("--keywords", type=int, default=20_000, help="distinct keywords (at most --follows)")
    parser.add_argument("--story-chars", type=int, default=800, help="Chinese characters per story")
    parser.add_argument(
        "--baseline-stories",
        type=int,
        default=None,
        help="stories the naive baseline runs on (default: all), its time scaled to --stories",
    )
    parser.add_argument("--seed", type=int, default=20250303)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    keywords = make_keywords(rng, min(args.keywords, args.follows))
    follows = make_follows(rng, keywords, args.follows)
    raw = [make_story(rng, keywords, args.story_chars) for _ in range(args.stories)]
    raw = [convert_script(story, "zh-Hant") if i % 2 else story for i, story in enumerate(raw)]
    owners: dict[str, list[int]] = {}
    for chat, keyword in follows:
        owners.setdefault(keyword, []).append(chat)
    chinese = sum(not kw.isascii() for kw in keywords)
    print(f"newsbot follows benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, seed {args.seed}")
    print(
        f"data: {len(follows):,} follows, {len(owners):,} distinct keywords ({chinese:,} Chinese, "
        f"{len(owners) - chinese:,} English), {len({chat for chat, _ in follows}):,} chats; "
        f"{len(raw):,} stories, {sum(map(len, raw)) / max(1, len(raw)):,.0f} characters on average "
        f"({sum(map(cjk_count, raw)) / max(1, len(raw)):,.0f} Chinese); "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )

    search_form("預熱")  # builds the script-folding table once (cached), outside the timing
    forms, seconds = timed(lambda: [search_form(story) for story in raw])
    print(
        f"search_form: {seconds:.3f} s for {len(raw):,} stories = {len(raw) / seconds:,.0f} stories/s, "
        f"{sum(map(len, raw)) / seconds / 1e6:.1f} M characters/s"
    )

    matcher, build_s = timed(lambda: KeywordMatcher(follows))
    stats = matcher._automaton.get_stats()  # private, for the figure only
    print(
        f"build KeywordMatcher: {build_s:.3f} s for {len(follows):,} follows; automaton {stats['nodes_count']:,} nodes, "
        f"{stats['total_size'] / MiB:.1f} MiB; peak RSS {peak_rss_mib():.0f} MiB"
    )

    found, match_s = timed(lambda: [matcher.matches(form) for form in forms])
    fast_rate = len(forms) / match_s
    hits = sum(map(len, found))
    print(
        f"match with KeywordMatcher: {match_s:.3f} s for {len(forms):,} stories = {fast_rate:,.1f} stories/s "
        f"({match_s / len(forms) * 1e3:.2f} ms a story); {hits:,} chat hits, {hits / len(forms):,.1f} a story"
    )

    subset = forms[: max(1, args.baseline_stories)] if args.baseline_stories is not None else forms
    naive, naive_s = timed(lambda: [naive_matches(form, owners) for form in subset])
    naive_rate = len(subset) / naive_s
    scaled = f", scaled to {len(forms):,}: {len(forms) / naive_rate:.1f} s" if len(subset) < len(forms) else ""
    same = sum(a.keys() == b.keys() for a, b in zip(naive, found))
    print(
        f"match naively (every keyword: in, then mentions): {naive_s:.3f} s for {len(subset):,} of "
        f"{len(forms):,} stories{scaled} = {naive_rate:,.2f} stories/s "
        f"({naive_s / len(subset) * 1e3:.1f} ms a story); same chats in {same:,} of {len(subset):,}"
    )
    print(
        f"KeywordMatcher / naive: {fast_rate / naive_rate:,.0f}× the stories per second "
        f"(first pass including the build: {(len(forms) / naive_rate) / (build_s + match_s):,.1f}× faster)"
    )
    print(f"peak RSS at the end: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
