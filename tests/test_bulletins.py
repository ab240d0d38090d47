"""Weather bulletin parsing: the seed's format and other phrasings portals use."""

from datetime import datetime

import pytest

from summarizer.weather.bulletins import describe_bulletin, parse_bulletins, parse_period

SEED_BLOCK = """梁平區氣象局2023年2月24日9時
發布未來48小時天氣預報
24日晚上到25日白天,多云轉陰,9-12℃
25日晚上到26日白天,多云,8-15℃"""


def test_seed_bulletin_is_parsed_and_removed():
    text, bulletins = parse_bulletins("推動各項工作邁上新臺階\n" + SEED_BLOCK + "\n關鍵詞:")
    assert text == "推動各項工作邁上新臺階\n關鍵詞:"
    [bulletin] = bulletins
    assert bulletin.issuer == "梁平區氣象局"
    assert bulletin.issued_at == datetime(2023, 2, 24, 9, 0)
    assert [(p.label, p.conditions, p.low, p.high) for p in bulletin.periods] == [
        ("24日晚上到25日白天", "多云轉陰", 9, 12),
        ("25日晚上到26日白天", "多云", 8, 15),
    ]


@pytest.mark.parametrize(
    "line, label, conditions, low, high, wind",
    [
        ("24日晚上到25日白天,多云轉陰,9-12℃", "24日晚上到25日白天", "多云轉陰", 9, 12, None),
        ("今天夜間：陰轉小雨，8～14℃，偏北風1-2級", "今天夜間", "陰轉小雨", 8, 14, "偏北風1-2級"),
        ("26日白天：多雲，9到15°C", "26日白天", "多雲", 9, 15, None),
        ("明天白天 晴 气温3~10℃ 东北风2级", "明天白天", "晴", 3, 10, "东北风2级"),
        ("25日夜间，小雨，-2至5℃", "25日夜间", "小雨", -2, 5, None),
        ("２５日白天：陣雨，１２～１８℃，東南風３級", "25日白天", "陣雨", 12, 18, "東南風3級"),
        ("今天白天：9-15°C，多云转晴，微风", "今天白天", "多云转晴", 9, 15, "微风"),
        ("明天：雷陣雨 20到28度 偏南風2到3級", "明天", "雷陣雨", 20, 28, "偏南風2到3級"),
        ("后天白天，阴有小雨，8〜11℃", "后天白天", "阴有小雨", 8, 11, None),
        ("27日白天到夜間：多雲間晴，15—22℃，西北風1級", "27日白天到夜間", "多雲間晴", 15, 22, "西北風1級"),
        ("今晚：晴，2～-3℃", "今晚", "晴", -3, 2, None),
    ],
)
def test_period_phrasings(line, label, conditions, low, high, wind):
    period = parse_period(line)
    assert period is not None
    assert (period.label, period.conditions, period.low, period.high, period.wind) == (label, conditions, low, high, wind)


def test_plain_sentences_with_numbers_are_not_periods():
    assert parse_period("梁平區共進行了6場課堂教學,15次現場教學。") is None
    assert parse_period("氣溫回升但早晚溫差較大") is None


def test_header_without_periods_is_left_in_text():
    text, bulletins = parse_bulletins("梁平區氣象局發布天氣預報\n今天的新聞到此結束。")
    assert bulletins == []
    assert "梁平區氣象局發布天氣預報" in text


def test_issue_year_defaults_when_header_omits_it():
    _, [bulletin] = parse_bulletins("梁平區氣象台2月25日16時發布：\n今天夜間：陰轉小雨，8～14℃", reference=datetime(2023, 2, 26))
    assert bulletin.issued_at == datetime(2023, 2, 25, 16, 0)
    assert bulletin.issuer == "梁平區氣象台"


def test_two_bulletins_in_one_text():
    text = SEED_BLOCK + "\n中間的正文。\n" + "萬州區氣象台2023年2月25日8時發布天氣預報\n25日白天：晴，10～18℃"
    rest, bulletins = parse_bulletins(text)
    assert [b.issuer for b in bulletins] == ["梁平區氣象局", "萬州區氣象台"]
    assert rest == "中間的正文。"


@pytest.mark.parametrize(
    "language, expected",
    [
        ("zh-Hant", ["梁平區氣象局", "多雲轉陰", "9～12℃", "8～15℃"]),
        ("zh-Hans", ["梁平区气象局", "多云转阴", "9～12℃", "8～15℃"]),
        ("en", ["cloudy then overcast", "9 to 12°C", "8 to 15°C", "night of the 24th"]),
    ],
)
def test_description_keeps_exact_numbers_in_each_language(language, expected):
    _, [bulletin] = parse_bulletins(SEED_BLOCK)
    description = describe_bulletin(bulletin, language)
    for fragment in expected:
        assert fragment in description
