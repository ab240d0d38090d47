"""The faithfulness check of generated summaries."""

import pytest

from summarizer.checks import check_summary, numbers

SOURCE = "2月24日，梁平區經濟信息委主任鄧順友介紹，今年一季度新簽約項目12個，協議投資額達36.5億元，去年產值同比增長三成。"
ENGLISH = "More than 3,000 birds arrived at Shuanggui Lake, Tang Xiaoping said on Saturday."


def test_numbers_are_normalised():
    assert {"2", "24", "12", "36.5", "30"} <= numbers(SOURCE)
    assert numbers("２０２３年，二十四個") == {"2023", "24"}


@pytest.mark.parametrize(
    "summary, language",
    [
        ("梁平区一季度签约12个项目，投资36.5亿元，增长30%。", "zh-Hans"),  # 三成 = 30%, other script
        ("2-24 梁平區簽約12個項目。", "zh-Hant"),  # 2月24日 as 2-24
        ("主任鄧順友說，梁平區簽約12個項目。", "zh-Hant"),
        ("About 3000 birds arrived at Shuanggui Lake.", "en"),
    ],
)
def test_faithful_summaries_pass(summary, language):
    source = ENGLISH if language == "en" else SOURCE
    assert check_summary(summary, source, language) is None


@pytest.mark.parametrize(
    "summary, language, reason",
    [
        ("梁平區一季度簽約15個項目。", "zh-Hant", "number 15 is not in the source"),
        ("萬州區一季度簽約12個項目。", "zh-Hant", "is not in the source"),
        ("主任張三說簽約12個項目。", "zh-Hant", "name '张三' is not in the source"),
        ("arrived Mory Mory 梁平區簽約12個項目。", "zh-Hant", "name 'Mory' is not in the source"),
        ("簽約簽約簽約簽約簽約簽約簽約簽約簽約簽約", "zh-Hant", "summary repeats itself"),
        ("", "zh-Hant", "empty summary"),
        ("About 3000 birds arrived at Dianchi Lake.", "en", "name 'Dianchi Lake' is not in the source"),
        ("Completely unrelated words about football transfers today.", "en", "shares too little wording"),
    ],
)
def test_unfaithful_summaries_fail_with_a_reason(summary, language, reason):
    source = ENGLISH if language == "en" else SOURCE
    assert reason in check_summary(summary, source, language)
