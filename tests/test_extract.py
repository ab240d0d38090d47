"""Extraction acceptance: the seed page as the portal serves it, and pages of other layouts."""

from datetime import datetime

import pytest

from bot.ingest.cleanup import clean_lines
from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import extract_html, extract_plain_text
from tests.conftest import DEMO, SEED_TEXT, SHANGHAI

FURNITURE = ["(相關資料圖)", "關鍵詞", "相關新聞", "2023-02-24 18:13:29", "2023-02-24 17:55:01", "責編", "審核",
             "記者 張耀", "向成國", "版權所有", "ICP", "分享到", "瀏覽", "首頁", "當前位置"]


def _page(relative: str):
    return extract_html(decode_bytes((DEMO / relative).read_bytes()), SHANGHAI)


def _seed_body_lines() -> list[str]:
    """The seed's story paragraphs: after the title, before the credits and the bulletin."""
    lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    body = lines[1 : lines.index("文 梁平區融媒體中心記者 張耀 陶冶")]
    return [line for line in body if line not in {"(相關資料圖)", "......"}]


def test_seed_page_title_date_language():
    article = _page("liangping/2023-02-24-training.html")
    assert article.title == "環球觀焦點:梁平 “開春第一課”學出干事創業的新氣象"
    assert article.published == datetime(2023, 2, 24, 18, 13, 29, tzinfo=SHANGHAI)
    assert article.language == "zh-Hant"


def test_seed_page_keeps_every_body_paragraph_in_order():
    article = _page("liangping/2023-02-24-training.html")
    text_lines = article.text.splitlines()
    assert text_lines == _seed_body_lines()


@pytest.mark.parametrize("furniture", FURNITURE)
def test_seed_page_has_no_furniture(furniture):
    assert furniture not in _page("liangping/2023-02-24-training.html").text


def test_seed_page_weather_bulletin_is_data_not_text():
    article = _page("liangping/2023-02-24-training.html")
    assert "氣象局" not in article.text and "℃" not in article.text
    [bulletin] = article.bulletins
    assert bulletin.issuer == "梁平區氣象局"
    assert bulletin.issued_at == datetime(2023, 2, 24, 9, 0, tzinfo=SHANGHAI)
    assert [(p.label, p.conditions, p.low, p.high) for p in bulletin.periods] == [
        ("24日晚上到25日白天", "多云轉陰", 9, 12),
        ("25日晚上到26日白天", "多云", 8, 15),
    ]


def test_seed_as_plain_text_file():
    article = extract_plain_text(SEED_TEXT.read_text(encoding="utf-8"), SHANGHAI)
    assert article.title.startswith("環球觀焦點")
    assert article.text.splitlines() == _seed_body_lines()
    assert len(article.bulletins) == 1


@pytest.mark.parametrize(
    "page, title, language, published, present, absent, bulletins",
    [
        (
            "liangping/2023-02-25-prepared-food.html",  # table layout, bulletin with wind
            "梁平預制菜產業園一季度新簽約項目12個", "zh-Hant", datetime(2023, 2, 25, 16, 30, tzinfo=SHANGHAI),
            ["協議投資額達36.5億元", "同比增長三成", "開通直達東盟國家的冷鏈班列。"],
            ["責任編輯", "分享到", "上一篇", "下一篇", "熱點新聞", "百里竹海景區春季開園", "Copyright", "偏北風"],
            [("梁平區氣象台", 2, (8, 14))],
        ),
        (
            "liangping/2023-02-26-spring-planting.html",  # <br>-separated div, "9到15°C"
            "梁平區春耕備耕有序推進", "zh-Hant", datetime(2023, 2, 26, 10, 5, tzinfo=SHANGHAI),
            ["計劃種植水稻3200畝", "做好秧苗防寒保溫工作。"],
            ["點擊", "通訊員", "標籤", "版權所有", "°C"],
            [("梁平區氣象局", 2, (9, 15))],
        ),
        (
            "chongqing/2023-02-24-liangping-training.html",  # GB2312, related list inside the article body
            "梁平区百余名领导干部赴浙江“取经”", "zh-Hans", datetime(2023, 2, 24, 20, 41, tzinfo=SHANGHAI),
            ["新华网重庆2月24日电", "共进行了6场课堂教学,15次现场教学。"],
            ["相关新闻", "梁平区召开2023年安全生产工作会议", "春季植树", "编辑：李娜", "ICP"],
            [],
        ),
        (
            "chongqing/2023-02-25-railway.html",  # <article> with meta tags, the seed's bulletin in Simplified
            "渝西高铁梁平段桥梁主体工程完工", "zh-Hans", datetime(2023, 2, 25, 11, 20, tzinfo=SHANGHAI),
            ["全长28.6公里", "计划明年与线路同步投入使用。"],
            ["关键词", "气象局", "Copyright", "首页"],
            [("梁平区气象局", 2, (9, 12))],
        ),
        (
            "english/2023-02-25-wetland.html",  # English, byline, share bar and related aside
            "Migratory birds return to Liangping's Shuanggui Lake wetland", "en",
            datetime(2023, 2, 25, 9, 30, tzinfo=SHANGHAI),
            ["More than 3,000 migratory birds", "open from 8 am to 6 pm daily."],
            ["By Zhang Wei", "Share this", "Related stories", "pomelo", "All rights reserved"],
            [],
        ),
    ],
)
def test_other_layouts(page, title, language, published, present, absent, bulletins):
    article = _page(page)
    assert article.title == title
    assert article.language == language
    assert article.published == published
    for fragment in present:
        assert fragment in article.text
    for fragment in absent:
        assert fragment not in article.text
    assert [(b.issuer, len(b.periods), (b.periods[0].low, b.periods[0].high)) for b in article.bulletins] == bulletins


def test_gb2312_bytes_declared_as_utf8_are_still_read():
    raw = (DEMO / "chongqing/2023-02-24-liangping-training.html").read_bytes()
    assert "梁平区百余名领导干部" in decode_bytes(raw, declared="utf-8")


def test_big5_without_declaration():
    raw = "<html><body><h1>梁平柚豐收</h1><p>今年梁平柚產量預計達到二十萬噸，果農收入明顯增加。</p></body></html>".encode("big5")
    assert "梁平柚豐收" in decode_bytes(raw)


@pytest.mark.parametrize(
    "line",
    ["(相關資料圖)", "（相关资料图）", "2023-02-24 18:13:29", "2023年02月24日 18:13", "關鍵詞:梁平", "关键词：高铁",
     "上一篇：某新聞", "瀏覽次數：1024", "分享到：微信 微博", "Copyright © 2023 Example", "渝ICP備12345678號",
     "文 梁平區融媒體中心記者 張耀 陶冶", "責編 唐祎 審核 曾鈺洪", "（編輯：王芳）", "By Zhang Wei", "......", "首頁",
     "返回顶部"],
)
def test_boilerplate_lines_are_dropped(line):
    assert clean_lines(f"正文第一段。\n{line}\n正文第二段。") == "正文第一段。\n正文第二段。"


def test_related_list_in_text_is_dropped_but_later_paragraphs_stay():
    text = "正文。\n相關新聞\n梁平區召開會議\n2023-02-24\n百里竹海開園\n這是一個很長的正文段落，它不屬於相關新聞列表，應該保留在文章裡面。"
    assert clean_lines(text) == "正文。\n這是一個很長的正文段落，它不屬於相關新聞列表，應該保留在文章裡面。"


def test_sentences_that_mention_credits_words_are_kept():
    text = "文化旅游委主任張涌感嘆道，余村在走向精彩蝶變的過程中也遭遇過煩惱。\nBy noon, the rain had stopped and the market reopened."
    assert clean_lines(text) == text
