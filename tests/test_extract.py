"""Extraction acceptance: the seed page as the portal serves it, and pages of other layouts."""

import json
from datetime import datetime

import pytest

from bot.ingest.cleanup import clean_lines
from bot.ingest.encoding import decode_bytes
from bot.ingest.extract import extract_html, extract_plain_text
from tests.support.cli import newsbot
from tests.support.data import DEMO, SEED_TEXT, SHANGHAI

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
     "返回顶部",
     # meta lines, also glued together on one line
     "發布時間：2023-03-01 09:12:30　瀏覽次數：188", "发布时间：2023-03-02 09:30 来源：区林业局 浏览次数：212 字号：大 中 小",
     "2023-03-04 11:26:08來源：梁平區融媒體中心作者：周曉燕編輯：何丹", "【字號：大 中 小】【打印】【關閉】",
     "发表于 2023-03-05 08:12:45", "查看: 3521 | 回复: 3", "Published: 2023-02-24 10:13:29 UTC",
     "Posted March 2023 by the committee", "Updated Feb. 24, 2023 at 6:02 p.m.",
     # date widgets, toolbars, captions and credits in parentheses, contact lines
     "今天是2023年3月6日 星期一 農曆二月十五", "分享 | 点赞 | 在看", "（圖片由雙桂湖濕地公園管理處提供）", "（梁平網記者 蔣文）",
     "Dana Whitfield covers city government. Reach her at dwhitfield@mfherald.example."],
)
def test_boilerplate_lines_are_dropped(line):
    assert clean_lines(f"正文第一段。\n{line}\n正文第二段。") == "正文第一段。\n正文第二段。"


def test_related_list_in_text_is_dropped_but_later_paragraphs_stay():
    text = "正文。\n相關新聞\n梁平區召開會議\n2023-02-24\n百里竹海開園\n這是一個很長的正文段落，它不屬於相關新聞列表，應該保留在文章裡面。"
    assert clean_lines(text) == "正文。\n這是一個很長的正文段落，它不屬於相關新聞列表，應該保留在文章裡面。"


def test_sentences_that_mention_credits_words_are_kept():
    text = "文化旅游委主任張涌感嘆道，余村在走向精彩蝶變的過程中也遭遇過煩惱。\nBy noon, the rain had stopped and the market reopened."
    assert clean_lines(text) == text


@pytest.mark.parametrize(
    "line",
    ["作者表示，這次展覽彙集了百餘件作品。", "來源於群眾的建議，區裡新建了三個停車場。", "Published in 1901, the novel was a success",
     "報名截止：2023年3月10日", "會議定於2023年3月10日", "美麗安吉·綠色發展·共同富裕", "停水時間：3月9日 22:00至3月10日 06:00"],
)
def test_article_lines_shaped_like_furniture_are_kept(line):
    assert clean_lines(f"正文第一段。\n{line}\n正文第二段。") == f"正文第一段。\n{line}\n正文第二段。"


def test_headlines_glued_to_timestamps_are_dropped_whatever_their_heading():
    ranking = ["1梁平区开展城镇燃气安全专项检查2023-03-03 10:06:37", "2 双桂湖湿地公园补植水生植物3万株2023-03-04 11:26:08"]
    dated = ["梁平区召开安全生产工作会议 03-02", "百里竹海景区春季开园 03-01"]
    text = "\n".join(["正文。", *ranking, "正文二。", *dated, "正文三。"])
    assert clean_lines(text) == "正文。\n正文二。\n正文三。"


def _article(middle: str) -> str:
    """A short article (three paragraphs) with ``middle`` between its second and third paragraph."""
    prose = "".join(f"<p>梁平區今天召開春季農業生產工作會議，部署第{n}項春耕備耕和糧食生產工作，要求各鎮街抓好落實。</p>" for n in (1, 2))
    return (f"<html><body><h1>梁平區召開春季農業生產工作會議</h1><div class='content'>{prose}{middle}"
            "<p>會議要求各部門密切配合，確保春耕生產順利推進。</p></div></body></html>")


@pytest.mark.parametrize(
    "block",
    [
        "<h3>看了又看</h3><p><a href='/1'>梁平區2023年春耕備耕有序推進</a></p><p><a href='/2'>袁驿鎮柚子合作社帶動300戶增收</a></p>",
        "<div class='x'><span>本網推薦</span><ul><li><a href='/1'>梁平柚進入採摘旺季</a> 03-02</li>"
        "<li><a href='/2'>第二屆梁平柚文化節開幕</a> 03-01</li></ul></div>",
        "<div><b>排行</b><ul><li onclick='go(1)'>梁平區開展燃氣安全專項檢查2023-03-03 10:06:37</li>"
        "<li onclick='go(2)'>雙桂湖補植水生植物2023-03-04 11:26:08</li></ul></div>",
        "<dl><dt>往期回顧</dt><dd>梁平柚進入採摘旺季</dd><dd>第二屆梁平柚文化節開幕</dd><dd>梁平柚鮮果首次出口東南亞</dd></dl>",
        "<p><strong>READ MORE:</strong> <a href='/elm'>Elm Street repaving to begin in April</a></p>",
        "<div class='promo'><p>Sign up for our free morning newsletter.</p><form><input type='email'><button>Go</button></form></div>",
    ],
    ids=["links-under-heading", "links-with-dates", "onclick-ranking", "headline-list", "read-more", "newsletter"],
)
def test_blocks_of_links_and_headlines_go_with_their_heading(block):
    article = extract_html(_article(block), SHANGHAI)
    assert article.text.splitlines() == extract_html(_article(""), SHANGHAI).text.splitlines()
    assert len(article.text.splitlines()) == 3


def test_a_list_introduced_by_its_sentence_is_kept():
    items = "<ul><li>梁山街道人民路</li><li>雙桂街道涼山路</li><li>高鐵新城安置房</li></ul>"
    article = extract_html(_article(f"<p>停水區域如下：</p>{items}"), SHANGHAI)
    assert "停水區域如下：\n梁山街道人民路\n雙桂街道涼山路\n高鐵新城安置房" in article.text


def test_br_layout_has_one_line_per_paragraph_and_its_header_line_is_the_title():
    page = ("<html><head><title>梁平新聞網</title></head><body><div class='wz'><b>梁平區啟動春季造林綠化工作</b><br>"
            "發布時間：2023-03-01 09:12:30　瀏覽次數：188<br><br>　　第一段，區林業局組織幹部群眾300餘人參加義務植樹。<br><br>"
            "　　第二段，今年全區計劃完成營造林5萬畝。<br>　　第三段，重點推進高速公路沿線綠化提升。<br></div></body></html>")
    article = extract_html(page, SHANGHAI)
    assert article.title == "梁平區啟動春季造林綠化工作"
    assert article.published == datetime(2023, 3, 1, 9, 12, 30, tzinfo=SHANGHAI)
    assert article.text.splitlines() == [
        "第一段，區林業局組織幹部群眾300餘人參加義務植樹。", "第二段，今年全區計劃完成營造林5萬畝。", "第三段，重點推進高速公路沿線綠化提升。",
    ]


def test_data_table_rows_come_out_one_a_line_and_layout_tables_do_not():
    grid = "".join(f"<tr><td>{town}</td><td>{mu}</td></tr>" for town, mu in (("雙桂街道", 3200), ("禮讓鎮", 2800)))
    data = f"<table><tr><th>鎮街</th><th>任務（畝）</th></tr>{grid}</table>"
    article = extract_html(_article(data), SHANGHAI)
    assert "鎮街 | 任務（畝）\n雙桂街道 | 3200\n禮讓鎮 | 2800" in article.text
    layout = extract_html(f"<table><tr><td>{_article('')}</td><td><a href='/'>首頁</a></td></tr></table>", SHANGHAI)
    assert " | " not in layout.text and len(layout.text.splitlines()) == 3


def test_forum_thread_keeps_only_the_first_post():
    post = ("<div id='post_{n}'><div class='pi'>{who} 發表於 2023-03-05 0{n}:12:45</div>"
            "<div class='t_f'>{text}</div></div>")
    posts = [post.format(n=1, who="竹海漁夫", text="週六早上去雙桂湖早市逛了一圈，攤位有六十多個，價格跟城裡菜市場差不多，有些蔬菜還便宜一點。"),
             post.format(n=2, who="柚子媽媽", text="謝謝樓主分享，這週末帶娃去逛逛，順便去湖邊看看鳥，聽說今年候鳥特別多。"),
             post.format(n=3, who="老梁平", text="豆花飯那家我吃過，八塊錢一碗，飯可以隨便添，老闆做了二十多年了。")]
    article = extract_html(f"<html><body><h1>雙桂湖邊新開的早市</h1><div id='postlist'>{''.join(posts)}</div></body></html>", SHANGHAI)
    assert article.text == "週六早上去雙桂湖早市逛了一圈，攤位有六十多個，價格跟城裡菜市場差不多，有些蔬菜還便宜一點。"
    assert article.published == datetime(2023, 3, 5, 1, 12, 45, tzinfo=SHANGHAI)


PARAGRAPH = "梁平區今年計劃新建農村公廁5座、改造戶廁300戶，投入資金約180萬元，4月底前完成房前屋後環境集中整治。"


@pytest.mark.parametrize(
    "text, title",
    [
        (PARAGRAPH, "梁平區今年計劃新建農村公廁5座"),
        (f"  {PARAGRAPH}\n", "梁平區今年計劃新建農村公廁5座"),
        ("Volunteers planted 2,000 trees along the Shuanggui Lake shore on Saturday morning, the district's forestry "
         "bureau said, the largest planting day since the wetland park opened.",
         "Volunteers planted 2,000 trees along the Shuanggui Lake shore on…"),
    ],
)
def test_plain_text_without_a_title_line_is_all_text(text, title):
    article = extract_plain_text(text, SHANGHAI)
    assert article.text == text.strip()
    assert article.title == title


def test_plain_text_title_line_is_still_the_title():
    article = extract_plain_text(f"梁平區推進農村人居環境整治\n{PARAGRAPH}", SHANGHAI)
    assert (article.title, article.text) == ("梁平區推進農村人居環境整治", PARAGRAPH)


@pytest.mark.parametrize("via", ["stdin", "txt"])
@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_summarize_one_paragraph_without_a_title(tmp_path, via):
    target = "-"
    if via == "txt":
        (tmp_path / "brief.txt").write_text(PARAGRAPH, encoding="utf-8")
        target = str(tmp_path / "brief.txt")
    result = newsbot("summarize", target, "--json", cwd=tmp_path, stdin=PARAGRAPH if via == "stdin" else None)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["language"] == "zh-Hant"
    assert document["summary"][:10] in PARAGRAPH  # a summary of the paragraph, not "no article text found"
