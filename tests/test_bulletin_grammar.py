"""The bulletin grammar, table-driven: how Chinese observatories phrase their forecasts.

Rows follow China Meteorological Administration conventions for city and district bulletins
("XX區氣象臺X月X日X時發布：…", "未來24小時/48小時/三天天氣預報", "今天夜間到明天白天", …), in
Traditional and Simplified characters. Each row gives the expected issuer, issue time and
periods (label, conditions, low, high, wind); the bulletin must also leave the text.
"""

from datetime import datetime, timedelta

import pytest

from summarizer.weather.bulletins import DEFAULT_VALIDITY, Bulletin, Period, parse_bulletins

REFERENCE = datetime(2023, 6, 30, 12, 0)  # "now" for rows whose issue time has no year

ISSUE_EXAMPLE = ("XX區氣象臺2023年3月5日16時發布:今天夜間到明天白天,陰天間多雲,6～13℃,偏北風1～2級;"
                 "6日夜間到7日白天,小雨,5～10℃。")

ROWS = [
    pytest.param(  # the issue's own example: one line, 臺, periods split by ";"
        ISSUE_EXAMPLE, "XX區氣象臺", datetime(2023, 3, 5, 16),
        [("今天夜間到明天白天", "陰天間多雲", 6, 13, "偏北風1～2級"), ("6日夜間到7日白天", "小雨", 5, 10, None)],
        id="issue-example",
    ),
    pytest.param(  # the seed's layout: issuer and time, then the headline, one period a line
        "梁平區氣象局2023年2月24日9時\n發布未來48小時天氣預報\n24日晚上到25日白天,多云轉陰,9-12℃\n25日晚上到26日白天,多云,8-15℃",
        "梁平區氣象局", datetime(2023, 2, 24, 9),
        [("24日晚上到25日白天", "多云轉陰", 9, 12, None), ("25日晚上到26日白天", "多云", 8, 15, None)],
        id="seed-hant",
    ),
    pytest.param(
        "梁平区气象局2023年2月24日9时\n发布未来48小时天气预报\n24日晚上到25日白天，多云转阴，9-12℃\n25日晚上到26日白天，多云，8-15℃",
        "梁平区气象局", datetime(2023, 2, 24, 9),
        [("24日晚上到25日白天", "多云转阴", 9, 12, None), ("25日晚上到26日白天", "多云", 8, 15, None)],
        id="seed-hans",
    ),
    pytest.param(
        "梁平区气象台3月5日16时发布：今天夜间到明天白天，阴有小雨，6～13℃，东北风3到4级；6日白天，小雨转阴，8～12℃。",
        "梁平区气象台", datetime(2023, 3, 5, 16),
        [("今天夜间到明天白天", "阴有小雨", 6, 13, "东北风3到4级"), ("6日白天", "小雨转阴", 8, 12, None)],
        id="no-year-hans-one-line",
    ),
    pytest.param(
        "重慶市氣象臺2023年3月5日17時發布未來24小時天氣預報：今天夜間到明天白天，多雲轉小雨，氣溫8到14℃，偏南風2～3級。",
        "重慶市氣象臺", datetime(2023, 3, 5, 17),
        [("今天夜間到明天白天", "多雲轉小雨", 8, 14, "偏南風2～3級")],
        id="24h-hant-temperature-prefix-dao",
    ),
    pytest.param(
        "重庆市气象台3月5日17时发布未来24小时天气预报：今天夜间到明天白天，多云转小雨，气温8至14℃。",
        "重庆市气象台", datetime(2023, 3, 5, 17),
        [("今天夜间到明天白天", "多云转小雨", 8, 14, None)],
        id="24h-hans-no-year-zhi",
    ),
    pytest.param(
        "梁平區氣象局2023年2月26日8時發布未來三天天氣預報\n今天：多雲，9～15℃，微風\n明天：陰，局部小雨，7～11℃\n後天：小雨轉中雨，6～9℃，東北風2級",
        "梁平區氣象局", datetime(2023, 2, 26, 8),
        [("今天", "多雲", 9, 15, "微風"), ("明天", "陰，局部小雨", 7, 11, None), ("後天", "小雨轉中雨", 6, 9, "東北風2級")],
        id="three-days-multi-line",
    ),
    pytest.param(
        "城口縣氣象站2023年1月12日16時發布：今天夜間，小雪，零下5到零下1度，偏北風2級；明天白天，陰天，零下3到2度。",
        "城口縣氣象站", datetime(2023, 1, 12, 16),
        [("今天夜間", "小雪", -5, -1, "偏北風2級"), ("明天白天", "陰天", -3, 2, None)],
        id="station-below-zero-words",
    ),
    pytest.param(
        "巫溪县气象台1月12日16时发布：今天夜间到明天白天，阴转小雪，-3~2℃，西北风1~2级。",
        "巫溪县气象台", datetime(2023, 1, 12, 16),
        [("今天夜间到明天白天", "阴转小雪", -3, 2, "西北风1~2级")],
        id="minus-sign-ascii-tilde",
    ),
    pytest.param(
        "萬州區氣象臺2023年4月2日6時發布：今天白天，晴間多雲，氣溫15—24°C，東南風2級；今天夜間，多雲，氣溫13—17°C。",
        "萬州區氣象臺", datetime(2023, 4, 2, 6),
        [("今天白天", "晴間多雲", 15, 24, "東南風2級"), ("今天夜間", "多雲", 13, 17, None)],
        id="em-dash-degree-c",
    ),
    pytest.param(
        "2023年4月2日6時萬州區氣象臺發布天氣預報\n今天白天：晴，15～24℃\n今天夜間：多雲，13～17℃",
        "萬州區氣象臺", datetime(2023, 4, 2, 6),
        [("今天白天", "晴", 15, 24, None), ("今天夜間", "多雲", 13, 17, None)],
        id="time-before-issuer",
    ),
    pytest.param(
        "重慶市氣象服務中心2023年5月1日10時30分發布：今天白天到夜間，陰天間多雲，局部有陣雨，18～26℃；明天白天，多雲轉晴，19～29℃。",
        "重慶市氣象服務中心", datetime(2023, 5, 1, 10, 30),
        [("今天白天到夜間", "陰天間多雲，局部有陣雨", 18, 26, None), ("明天白天", "多雲轉晴", 19, 29, None)],
        id="service-centre-minutes",
    ),
    pytest.param(
        "梁平區氣象局2023年6月10日16:00發布\n今天夜間：雷陣雨，22～27℃，偏南風3～4級陣風6級",
        "梁平區氣象局", datetime(2023, 6, 10, 16),
        [("今天夜間", "雷陣雨", 22, 27, "偏南風3～4級陣風6級")],
        id="clock-time-gusts",
    ),
    pytest.param(
        "墊江縣氣象站2023年3月6日17時發布天氣預報\n明天白天 小雨 氣溫9~13℃ 東北風2級",
        "墊江縣氣象站", datetime(2023, 3, 6, 17),
        [("明天白天", "小雨", 9, 13, "東北風2級")],
        id="space-separated-items",
    ),
    pytest.param(
        "梁平区气象台6月3日16时发布：\n今晚：多云，22～26℃\n明天：晴，23～32℃，无持续风向微风",
        "梁平区气象台", datetime(2023, 6, 3, 16),
        [("今晚", "多云", 22, 26, None), ("明天", "晴", 23, 32, "无持续风向微风")],
        id="tonight-tomorrow-hans",
    ),
    pytest.param(
        "忠县气象局2023年3月8日16时发布未来48小时天气预报\n8日夜间到9日白天，阴有小雨，10～14℃\n9日夜间到10日白天，小雨转多云，9～16℃",
        "忠县气象局", datetime(2023, 3, 8, 16),
        [("8日夜间到9日白天", "阴有小雨", 10, 14, None), ("9日夜间到10日白天", "小雨转多云", 9, 16, None)],
        id="48h-hans-multi-line",
    ),
    pytest.param(
        "開州區氣象臺2023年3月8日16時發布：今天夜間，小雨，10～13℃。明天白天，陰轉多雲，11～17℃。",
        "開州區氣象臺", datetime(2023, 3, 8, 16),
        [("今天夜間", "小雨", 10, 13, None), ("明天白天", "陰轉多雲", 11, 17, None)],
        id="periods-split-by-full-stops",
    ),
    pytest.param(
        "梁平區氣象局2023年7月20日17時發布天氣預報：今天夜間，多雲，溫度26至31度，微風；明天白天，晴，溫度28至37度，偏南風2到3級。",
        "梁平區氣象局", datetime(2023, 7, 20, 17),
        [("今天夜間", "多雲", 26, 31, "微風"), ("明天白天", "晴", 28, 37, "偏南風2到3級")],
        id="wendu-prefix-du",
    ),
    pytest.param(
        "綦江區氣象臺2023年2月1日16時發布：明天白天，陰天有小雨，最低氣溫4℃，最高氣溫9℃，東北風1～2級。",
        "綦江區氣象臺", datetime(2023, 2, 1, 16),
        [("明天白天", "陰天有小雨", 4, 9, "東北風1～2級")],
        id="lowest-highest",
    ),
    pytest.param(
        "重庆市气象台2023年6月20日16时发布：今天夜间到明天白天，阴有中到大雨，局部暴雨，22～26℃，偏北风2～3级，阵风7级。",
        "重庆市气象台", datetime(2023, 6, 20, 16),
        [("今天夜间到明天白天", "阴有中到大雨，局部暴雨", 22, 26, "偏北风2～3级，阵风7级")],
        id="heavy-rain-gusts-hans",
    ),
    pytest.param(
        "城口县气象站2023年1月20日6时发布：今天白天，晴，-4-3°，微风",
        "城口县气象站", datetime(2023, 1, 20, 6),
        [("今天白天", "晴", -4, 3, "微风")],
        id="hyphen-range-bare-degree",
    ),
    pytest.param(
        "梁平区气象台2023年2月24日16时发布天气预报\n今天夜间：阴，7〜11℃\n后天白天：阴有小雨，8〜11℃",
        "梁平区气象台", datetime(2023, 2, 24, 16),
        [("今天夜间", "阴", 7, 11, None), ("后天白天", "阴有小雨", 8, 11, None)],
        id="wave-dash-day-after-tomorrow",
    ),
    pytest.param(
        "梁平區氣象局\n2023年2月24日9時\n發布未來48小時天氣預報\n24日晚上到25日白天，多雲轉陰，9～12℃",
        "梁平區氣象局", datetime(2023, 2, 24, 9),
        [("24日晚上到25日白天", "多雲轉陰", 9, 12, None)],
        id="header-over-three-lines",
    ),
    pytest.param(
        "梁平區氣象局：今天白天，多雲，9～15℃。",
        "梁平區氣象局", None,
        [("今天白天", "多雲", 9, 15, None)],
        id="issuer-only-header",
    ),
    pytest.param(
        "據梁平區氣象臺2023年2月25日16時發布的天氣預報：今天夜間，陰轉小雨，8～14℃。",
        "梁平區氣象臺", datetime(2023, 2, 25, 16),
        [("今天夜間", "陰轉小雨", 8, 14, None)],
        id="according-to",
    ),
    pytest.param(
        "中央氣象臺2023年2月24日18時發布：明天白天，晴轉多雲，5～16℃。",
        "中央氣象臺", datetime(2023, 2, 24, 18),
        [("明天白天", "晴轉多雲", 5, 16, None)],
        id="two-character-issuer",
    ),
    pytest.param(
        "梁平区气象台2023年3月5日16时发布：今天夜间阴天，6～13℃，明天白天多云，8～15℃。",
        "梁平区气象台", datetime(2023, 3, 5, 16),
        [("今天夜间", "阴天", 6, 13, None), ("明天白天", "多云", 8, 15, None)],
        id="periods-split-by-commas",
    ),
    pytest.param(
        "梁平區氣象臺２０２３年２月２５日１６時發布：今天夜間，陰轉小雨，８～１４℃，偏北風１～２級",
        "梁平區氣象臺", datetime(2023, 2, 25, 16),
        [("今天夜間", "陰轉小雨", 8, 14, "偏北風1～2級")],
        id="full-width-digits",
    ),
    pytest.param(
        "梁平區氣象臺2023年2月25日16時發佈天氣預報：明天白天，多雲，10～16℃。",
        "梁平區氣象臺", datetime(2023, 2, 25, 16),
        [("明天白天", "多雲", 10, 16, None)],
        id="fabu-variant",
    ),
    pytest.param(
        "　　梁平區氣象局2023年2月26日8時發布天氣預報\n　　26日白天：多雲，9到15°C",
        "梁平區氣象局", datetime(2023, 2, 26, 8),
        [("26日白天", "多雲", 9, 15, None)],
        id="indented-lines",
    ),
    pytest.param(
        "梁平區氣象臺2023年2月25日下午4時發布：今天夜間，陰，8～12℃。",
        "梁平區氣象臺", datetime(2023, 2, 25, 16),
        [("今天夜間", "陰", 8, 12, None)],
        id="afternoon-hour",
    ),
    pytest.param(
        "梁平区气象台2023年12月5日6时发布：今天白天，大雾转多云，5～14℃。",
        "梁平区气象台", datetime(2023, 12, 5, 6),
        [("今天白天", "大雾转多云", 5, 14, None)],
        id="fog-hans",
    ),
    pytest.param(
        "城口縣氣象站2023年1月14日16時發布：今天夜間到明天白天，雨夾雪轉小雪，-2～1℃，偏北風3級。",
        "城口縣氣象站", datetime(2023, 1, 14, 16),
        [("今天夜間到明天白天", "雨夾雪轉小雪", -2, 1, "偏北風3級")],
        id="sleet",
    ),
    pytest.param(
        "梁平區氣象臺2023年3月1日8時發布：未來24小時，多雲轉陰，10～18℃。",
        "梁平區氣象臺", datetime(2023, 3, 1, 8),
        [("未來24小時", "多雲轉陰", 10, 18, None)],
        id="next-24-hours-label",
    ),
    pytest.param(
        "梁平区气象台2023年4月10日16时发布：今天夜间到明天白天，晴到多云，12～25℃，风力2～3级。",
        "梁平区气象台", datetime(2023, 4, 10, 16),
        [("今天夜间到明天白天", "晴到多云", 12, 25, "风力2～3级")],
        id="sunny-to-cloudy-wind-force",
    ),
    pytest.param(
        "梁平區氣象局2023年8月1日16時發布：今天夜間，陣雨轉多雲，25～30℃，降水概率70%；明天白天，多雲，26～35℃。",
        "梁平區氣象局", datetime(2023, 8, 1, 16),
        [("今天夜間", "陣雨轉多雲", 25, 30, None), ("明天白天", "多雲", 26, 35, None)],
        id="precipitation-probability",
    ),
]


@pytest.mark.parametrize("text, issuer, issued_at, periods", ROWS)
def test_phrasing(text, issuer, issued_at, periods):
    rest, [bulletin] = parse_bulletins(f"正文開頭。\n{text}\n正文結尾。", reference=REFERENCE)
    assert bulletin.issuer == issuer
    assert bulletin.issued_at == issued_at
    assert [(p.label, p.conditions, p.low, p.high, p.wind) for p in bulletin.periods] == periods
    assert rest == "正文開頭。\n正文結尾。"


def test_the_table_is_large_enough():
    assert len(ROWS) >= 30


def test_one_line_bulletin_after_a_sentence_leaves_the_sentence():
    rest, [bulletin] = parse_bulletins("推動各項工作邁上新臺階。" + ISSUE_EXAMPLE + "記者 張耀", reference=REFERENCE)
    assert rest == "推動各項工作邁上新臺階。記者 張耀"
    assert bulletin.text == ISSUE_EXAMPLE


@pytest.mark.parametrize(
    "text",
    [
        "據梁平區氣象局介紹，今年2月平均氣溫較常年偏高1.5℃。",
        "梁平區氣象局2月24日發布：今年2月全區平均氣溫9.5℃，較常年偏高1.2℃。",
        "記者從重慶市氣象臺獲悉，今天夜間到明天白天，全市氣溫6～13℃。",
        "梁平區氣象局發布天氣預報稱，未來三天以陰雨天氣為主。",
        "梁平區氣象局2023年2月24日9時發布暴雨藍色預警，請市民注意防範。",
        "今天白天最高氣溫達到15℃，市民紛紛外出踏青。",
        "昨天梁平區氣溫回升到15～18℃，油菜花提前開放。",
        "梁平區氣象局局長張三表示，今年將新建10個自動氣象站。",
        "今年以來，梁平区气象局共发布天气预报120期，准确率达90%。",
        "梁平區氣象局發布天氣預報\n今天的新聞到此結束。",
    ],
    ids=["according-to-bureau", "stamped-statement", "reporter-learned", "forecast-says", "warning",
         "record-temperature", "temperature-range", "bureau-chief", "bulletin-count", "headline-then-news"],
)
def test_news_sentences_are_not_bulletins(text):
    body = f"第一段。\n{text}\n最後一段。"
    assert parse_bulletins(body, reference=REFERENCE) == (body, [])


@pytest.mark.parametrize(
    "text",
    [
        "梁平區氣象臺2023年3月5日16時發布天氣預報：今天夜間到明天白天，天氣###，溫度待定",
        "梁平區氣象臺3月5日16時發布：今天夜間到明天白天，###；明天，@@@。",
        "梁平區氣象局發布天氣預報：今天夜間到明天白天，天氣＊＊，溫度??",
        "梁平區氣象局2023年2月24日9時\n發布未來48小時天氣預報\n24日晚上到25日白天，###\n25日晚上到26日白天，暫缺",
        "梁平區氣象局2023年2月24日9時\n發布未來48小時天氣預報",
    ],
    ids=["one-line-hash", "one-line-no-words", "no-time-one-line", "multi-line-garbled", "header-alone"],
)
def test_bulletin_whose_periods_do_not_parse_still_leaves_the_text(text):
    rest, bulletins = parse_bulletins(f"第一段。\n{text}\n記者 張三", reference=REFERENCE)
    assert rest == "第一段。\n記者 張三"
    assert bulletins == []


def test_unreadable_periods_after_readable_ones_leave_the_text_too():
    text = "梁平區氣象臺2023年3月5日16時發布：今天夜間，陰，6～13℃；明天白天，###。\n下一段。"
    rest, [bulletin] = parse_bulletins(text)
    assert rest == "下一段。"
    assert [p.label for p in bulletin.periods] == ["今天夜間"]


@pytest.mark.parametrize(
    "header, reference, issued_at",
    [
        ("3月5日16時", datetime(2023, 3, 5, 18), datetime(2023, 3, 5, 16)),
        ("12月31日16時", datetime(2024, 1, 1, 8), datetime(2023, 12, 31, 16)),  # across new year, backwards
        ("1月1日8時", datetime(2024, 1, 1, 0, 0), datetime(2024, 1, 1, 8)),  # an article dated by day only
        ("3月5日16時", datetime(2023, 3, 4, 12), datetime(2022, 3, 5, 16)),  # never after the reference's day
        ("2023年3月5日16時", datetime(2030, 1, 1), datetime(2023, 3, 5, 16)),  # a stated year wins
    ],
    ids=["same-day", "new-year-back", "day-only-reference", "not-after-reference", "stated-year"],
)
def test_missing_year_is_the_one_closest_before_the_reference(header, reference, issued_at):
    _, [bulletin] = parse_bulletins(f"梁平區氣象臺{header}發布：今天夜間，陰，6～13℃。", reference=reference)
    assert bulletin.issued_at == issued_at


def test_no_year_and_no_reference_leaves_the_issue_time_unknown():
    _, [bulletin] = parse_bulletins("梁平區氣象臺3月5日16時發布：今天夜間，陰，6～13℃。")
    assert bulletin.issued_at is None and bulletin.periods[0].low == 6


@pytest.mark.parametrize(
    "text, valid_until",
    [
        (ISSUE_EXAMPLE, datetime(2023, 3, 7, 20)),  # the last period, 7日白天, ends at 20:00
        ("梁平區氣象局2023年3月5日16時發布：今天夜間，陰，6～13℃。", datetime(2023, 3, 6, 8)),  # a night ends at 08:00
        ("梁平區氣象局2023年3月5日16時發布：明天，陰，6～13℃。", datetime(2023, 3, 7)),  # a whole day at midnight
        # the headline's 24 hours cap the labels' 28
        ("重慶市氣象臺2023年3月5日16時發布未來24小時天氣預報：今天夜間到明天白天，多雲，8～14℃。", datetime(2023, 3, 6, 16)),
        ("梁平区气象台2023年3月30日16时发布：31日夜间到1日白天，小雨，8～14℃。", datetime(2023, 4, 1, 20)),  # next month
        ("梁平區氣象臺2023年3月1日8時發布：未來24小時，多雲轉陰，10～18℃。", datetime(2023, 3, 2, 8)),
    ],
    ids=["last-period", "night", "whole-day", "headline-cap", "next-month", "hours-label"],
)
def test_validity_follows_the_labels_and_the_headline(text, valid_until):
    _, [bulletin] = parse_bulletins(text)
    assert bulletin.valid_until() == valid_until


def test_validity_defaults_to_48_hours_and_needs_an_issue_time():
    issued = datetime(2023, 3, 5, 16)
    unlabelled = Bulletin("梁平區氣象局", issued, [Period("全天", "陰", 6, 13)])
    assert DEFAULT_VALIDITY == timedelta(hours=48)
    assert unlabelled.valid_until() == issued + timedelta(hours=48)
    undated = Bulletin("梁平區氣象局", None, [Period("今天夜間", "陰", 6, 13)])
    assert undated.valid_until() is None
    assert undated.valid_until(issued) == datetime(2023, 3, 6, 8)
