"""Canonical URLs, content hashes and story grouping."""

from datetime import datetime, timedelta, timezone

from bot.ingest.dedup import Signature, StoryIndex, canonical_url, content_hash, text_signature
from summarizer.text import convert_script
from tests.support.texts import ENGLISH, SEED_BODY

NOW = datetime(2023, 2, 24, 12, tzinfo=timezone.utc)
OTHER_ZH = "渝西高鐵梁平段全長28.6公里，設梁平南站1座，其中橋樑14座、隧道6座。施工方克服雨季和山區地形的不利影響，較計劃提前兩個月完成橋樑施工。"


def test_canonical_url_drops_tracking_and_fragments():
    assert canonical_url("HTTP://News.Example.COM:80/a/b.html?utm_source=x&b=2&a=1#top") == "http://news.example.com/a/b.html?a=1&b=2"
    assert canonical_url("https://example.com") == "https://example.com/"
    assert canonical_url("https://example.com:8443/x?spm=1.2") == "https://example.com:8443/x"


def test_content_hash_ignores_script_width_and_spacing():
    assert content_hash("標題", "梁平區 ２０２３年。") == content_hash("标题", "梁平区2023年")
    assert content_hash("標題", "梁平區") != content_hash("標題", "萬州區")


def test_signature_round_trips_through_bytes():
    signature = text_signature(SEED_BODY, "zh-Hant")
    restored = Signature.from_bytes(signature.to_bytes())
    assert restored.size == signature.size > 1000
    assert restored.minhash.jaccard(signature.minhash) == 1.0


def test_same_story_in_other_script_and_shorter_is_grouped():
    index = StoryIndex(timedelta(hours=72))
    index.add(1, story_id=10, when=NOW, signature=text_signature(SEED_BODY, "zh-Hant"))
    paragraphs = convert_script(SEED_BODY, "zh-Hans").splitlines()
    republished = "\n".join(["新华网重庆2月24日电 梁平区百余名学员赴浙江学习。"] + paragraphs[10:22])
    assert index.find_story(NOW + timedelta(hours=8), text_signature(republished, "zh-Hans")) == 10


def test_unrelated_stories_and_stories_outside_the_window_are_not_grouped():
    index = StoryIndex(timedelta(hours=72))
    index.add(1, story_id=10, when=NOW, signature=text_signature(SEED_BODY, "zh-Hant"))
    index.add(2, story_id=11, when=NOW, signature=text_signature(ENGLISH, "en"))
    assert index.find_story(NOW, text_signature(OTHER_ZH, "zh-Hant")) is None
    assert index.find_story(NOW + timedelta(days=10), text_signature(SEED_BODY, "zh-Hant")) is None
    assert index.find_story(NOW, text_signature(ENGLISH, "en")) == 11
