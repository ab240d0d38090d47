"""The faithfulness gate: what it lets through, what it refuses and why, and how it agrees
with the labelled corpus in benchmarks/faithfulness/."""

import sys
from pathlib import Path

import pytest

from summarizer.checks import check_summary, judge
from summarizer.quantities import numbers, quantities

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import faithfulness  # noqa: E402

SOURCE = "2月24日，梁平區經濟信息委主任鄧順友介紹，今年一季度新簽約項目12個，協議投資額達36.5億元，去年產值同比增長三成。"
MEETING = ("梁平區召開全區交通工作會議。會議由區委辦公室組織。區委書記王強要求各部門加強安全管理。"
           "會議還通報了去年的工作情況。區長李明介紹，今年將新建農村公路120公里，改造危橋8座。")
ENGLISH = ("The town council of Millbrook voted on Tuesday to spend $2.4 million on a 1.2-kilometre flood wall along "
           "River Street. Mayor Linda Okafor said work would start in May and take 18 months. Councillor James Reed "
           "voted against the plan, saying the money should go to roads. The wall will not be finished before 2026.")


def test_numbers_are_compared_by_value():
    assert {"2", "24", "12", "3650000000", "30"} <= numbers(SOURCE)
    assert numbers("２０２３年，二十四個") == {"2023", "24"}
    same = ["1.8萬人", "18,000 people", "eighteen thousand people", "一萬八千人"]
    assert len({frozenset(numbers(text)) for text in same}) == 1
    assert {"20"} <= numbers("兩成") & numbers("20%") & numbers("a fifth") & numbers("one in five")
    assert numbers("3.5億元") == numbers("35000萬元") == numbers("350,000,000 yuan")
    assert [(q.values, q.unit) for q in quantities("900 m, $2.4m")] == [({"900"}, "m"), ({"2400000"}, None)]


@pytest.mark.parametrize("summary, language", [
    ("梁平区一季度签约12个项目，投资36.5亿元，产值增长30%。", "zh-Hans"),  # 三成 = 30%, the other script
    ("梁平區一季度簽約12個項目 投資達365000萬元", "zh-Hant"),  # another way to write the amount
    ("主任鄧順友說，梁平區簽約12個項目。", "zh-Hant"),
    ("Millbrook approves $2.4m River Street flood wall", "en"),  # headline
    ("millbrook council backs a 1.2 km flood wall; work starts in may and lasts 18 months.", "en"),
    ("Work on the River Street wall, which Councillor James Reed opposed, starts in May.", "en"),
])
def test_faithful_summaries_pass(summary, language):
    source = ENGLISH if language == "en" else SOURCE
    assert check_summary(summary, source, language) is None


@pytest.mark.parametrize("summary, language, check", [
    ("梁平區一季度簽約15個項目。", "zh-Hant", "number"),
    ("梁平區一季度簽約12個項目，投資36.5萬元。", "zh-Hant", "number"),  # the scale is part of the value
    ("主任張三說簽約12個項目。", "zh-Hant", "name"),
    ("萬州區一季度簽約12個項目。", "zh-Hant", "place"),
    ("梁平區明年一季度簽約12個項目。", "zh-Hant", "date"),  # a date in words the article does not give
    ("梁平區一季度簽約12個項目，投資36.5億美元。", "zh-Hant", "unit"),  # 元 (yuan), not US dollars
    ("梁平區今年沒有簽約新項目。", "zh-Hant", "negation"),
    ("The council will spend $2.4 million on a 1.2-mile flood wall.", "en", "unit"),
    ("The council voted on Wednesday to build the River Street wall.", "en", "date"),
    ("Mayor John Smith said work on the flood wall would start in May.", "en", "name"),
    ("mayor linda okafor said work on the flood wall would start in may.", "en", None),  # lower case is fine
    ("mayor linda oyelaran said work on the flood wall would start in may.", "en", "name"),  # a name in lower case
    ("王強介紹，今年將新建農村公路120公里，改造危橋8座。", "zh-Hant", "misplaced name"),  # 李明 said it; 王強 is in the article
    ("The wall will be finished before 2026, the council said.", "en", "negation"),
    ("시의회는 홍수 방벽 건설에 240만 달러를 쓰기로 했다", "en", "language"),
    ("O conselho municipal votou para gastar dinheiro no muro contra enchentes na rua.", "en", "language"),
    ("... !!! ???", "en", "unjudged"),
    ("簽約簽約簽約簽約簽約簽約簽約簽約簽約簽約", "zh-Hant", "repetition"),
    ("", "zh-Hant", "empty"),
])
def test_summaries_are_judged_by_the_right_check(summary, language, check):
    source = ENGLISH if language == "en" else MEETING if "王強" in summary else SOURCE
    verdict = judge(summary, source, language)
    assert verdict.check == check, verdict
    assert verdict.faithful if check is None else verdict.reason.startswith(f"{check}: ")


def test_sides_dates_in_words_and_what_is_counted_must_be_the_articles():
    source = "正月初八起，名豪大道以西區域停水兩天，影響居民約1.6萬人。"
    assert judge("正月初八起，名豪大道以西區域停水兩天。", source, "zh-Hant").faithful
    assert judge("正月初六起，名豪大道以西區域停水兩天。", source, "zh-Hant").check == "date"
    assert judge("正月初八起，名豪大道以東區域停水兩天。", source, "zh-Hant").check == "place"
    assert judge("名豪大道以西區域停水兩天，影響約1.6萬戶。", source, "zh-Hant").check == "unit"
    english = ("The warehouse on Lowell Road covers 140,000 square feet. River Street will be closed from 7 a.m. on weekdays. "
               "The council met on Monday. The vote was 7-2. Residents were consulted in March. Ferry Lane stays open.")
    assert judge("A 140,000-square-foot warehouse on Lowell Road.", english, "en").faithful
    assert judge("A 140,000-square-metre warehouse on Lowell Road.", english, "en").check == "unit"
    assert judge("Ferry Lane will be closed from 7 a.m. on weekdays.", english, "en").check == "misplaced name"


WHO = ("3月18日下午，區長鄭宏亮主持召開區政府第42次常務會議，研究城市更新工作。副區長孫立新參加會議。"
       "梁平站站長程海波介紹，今年春運梁平站增開至重慶北、成都東方向的臨時列車14對。"
       "區交通局副局長羅斌說，公交3路末班車延至23時。招聘會上月薪6000元以上的崗位約佔兩成。")
WHO_EN = ("Mayor Linda Okafor thanked the 300 volunteers. Police Chief Robert Haines said no arrests were made. "
          "The island's only doctor, Dr Alasdair Kerr, said patients with hospital appointments would be given priority.")


@pytest.mark.parametrize("summary, language, check", [
    ("區長鄭宏亮主持召開區政府常務會議", "zh-Hant", None),
    ("副區長孫立新主持召開區政府第42次常務會議", "zh-Hant", "misplaced name"),  # he attended; 鄭宏亮 chaired
    ("程海波介紹，梁平站春運增開臨時列車14對", "zh-Hant", None),
    ("羅斌介紹，梁平站春運增開臨時列車14對", "zh-Hant", "misplaced name"),  # 羅斌 spoke of buses
    ("梁平站春運增開至重慶西方向的臨時列車14對", "zh-Hant", "place"),  # 重慶北 station
    ("招聘會上年薪6000元以上的崗位約佔兩成", "zh-Hant", "unit"),  # monthly pay, not yearly
    ("梁平區水利局要求公交3路末班車延至23時", "zh-Hant", "name"),  # 交通局
    ("Mayor Linda Okafor thanked the 300 volunteers.", "en", None),
    ("Police Chief Robert Haines thanked the 300 volunteers.", "en", "misplaced name"),
    ("Dr Alasdair Kerr said patients with hospital appointments would be given priority.", "en", None),
    ("Police Chief Robert Haines said patients with hospital appointments would be given priority.", "en", "misplaced name"),
    ("Police Chief Robert Haines warned patients with hospital appointments would be given priority.", "en", "misplaced name"),
])
def test_who_did_what_and_what_kind_of_thing_must_be_the_articles(summary, language, check):
    verdict = judge(summary, WHO if language != "en" else WHO_EN, language)
    assert verdict.check == check, verdict


def test_a_speaker_named_before_a_relative_clause_and_a_month_in_its_place():
    source = ("The old unit closed in October. Lucy Tranter, who founded the campaign group Save Ravensmoor Maternity "
              "in 2021, said the decision would put mothers at risk on the A683 in winter. Councillor Imran Sadiq said "
              "the council would write to the health board. The board meets every month. Construction of the new unit "
              "is due to begin in August.")
    said = "said the decision would put mothers at risk on the A683 in winter."
    assert judge(f"Lucy Tranter, who founded Save Ravensmoor Maternity, {said}", source, "en").faithful
    assert judge(f"Imran Sadiq, who founded Save Ravensmoor Maternity, {said}", source, "en").check == "misplaced name"
    assert judge("Construction of the new unit is due to begin in August.", source, "en").faithful
    assert judge("Construction of the new unit is due to begin in October.", source, "en").check == "misplaced number"


def test_an_hour_is_read_on_the_24_hour_clock_unless_the_article_says_evening():
    source = "城區部分區域定於3月28日22時至29日8時停水。晚上8時起，送水車到各小區送水。"
    assert judge("城區部分區域3月28日22時起停水", source, "zh-Hant").faithful
    assert judge("送水車3月28日20時起送水", source, "zh-Hant").faithful  # 晚上8時
    morning = "城區部分區域定於3月28日22時至29日8時停水。"
    assert judge("城區部分區域3月28日20時起停水", morning, "zh-Hant").check == "date"  # 8時 is the morning


def test_numbers_swapped_between_what_they_count():
    source = "渝西高鐵梁平段全長32公里，共有橋樑14座、隧道6座，今年6月完成橋樑施工。"
    assert judge("渝西高鐵梁平段共有橋樑14座、隧道6座", source, "zh-Hant").faithful
    assert judge("渝西高鐵梁平段共有橋樑6座、隧道14座", source, "zh-Hant").check == "number"


def test_english_numbers_and_streets_stay_with_what_they_belong_to():
    source = ("Deputies have arrested two men over 14 storage-unit break-ins since December. So far nine victims "
              "have had property returned. Cooling centers open at the library on Palo Verde Avenue and the senior "
              "center on 5th Street on Thursday.")
    assert judge("Nine victims of the 14 storage-unit break-ins have had property returned.", source, "en").faithful
    assert judge("Deputies have returned property to 14 victims of the break-ins.", source, "en").check == "number"
    assert judge("A cooling center opens at the library on Palo Verde Avenue.", source, "en").faithful
    assert judge("A cooling center opens at the library on 5th Street.", source, "en").check == "place"
    bins = "38 per cent of the contents of black bins is food, and the recycling rate is currently 41 per cent."
    assert judge("The recycling rate currently stands at 41 per cent.", bins, "en").faithful
    assert judge("The recycling rate currently stands at 38 per cent.", bins, "en").check == "number"
    company = "Norvik, based in Columbus, already runs a smaller plant in Greenfield with 90 workers."
    assert judge("Norvik, which is based in Columbus, runs a plant in Greenfield.", company, "en").faithful
    assert judge("Norvik, which is based in Greenfield, runs a plant in Columbus.", company, "en").check == "place"


def test_warning_levels_and_what_a_bare_number_counts():
    heat = "The National Weather Service has issued an excessive heat warning for Mesquite Flats from noon Thursday."
    assert judge("An excessive heat warning is in force for Mesquite Flats from noon Thursday.", heat, "en").faithful
    assert judge("An excessive heat advisory is in force for Mesquite Flats from noon Thursday.", heat, "en").check == "name"
    storm = "梁平區氣象臺發佈暴雨橙色預警，預計未來3小時降雨量將達50毫米以上。"
    assert judge("梁平發佈暴雨橙色預警，3小時降雨量將達50毫米以上", storm, "zh-Hant").faithful
    assert judge("梁平發佈暴雨紅色預警，3小時降雨量將達50毫米以上", storm, "zh-Hant").check == "name"
    census = ("The population of the Lowmoor district grew by 6.4 per cent between 2011 and 2021, to 48,300. "
              "The district now has more residents than at any census since 1911.")
    assert judge("The Lowmoor district population grew to 48,300 residents.", census, "en").faithful
    assert judge("The Lowmoor district population grew to 48,300 households.", census, "en").check == "unit"


def test_a_figure_belongs_to_the_place_its_sentence_is_about():
    source = ("The population of the Lowmoor district grew by 6.4 per cent between 2011 and 2021. The fastest growth "
              "was in the village of Sutton Fen, where the number of residents rose by 31 per cent. The village of "
              "Cragside was the only place to shrink, losing 120 people. Kevin Daly, 46, of Orchard Close, took a "
              "deposit to replace the roof of a bungalow on Linden Avenue.")
    assert judge("The village of Cragside was the only place to lose population, falling by 120 people.", source,
                 "en").faithful
    assert judge("The village of Sutton Fen was the only place to lose population, falling by 120 people.", source,
                 "en").check == "misplaced name"
    assert judge("Kevin Daly took a deposit to replace the roof of a bungalow on Linden Avenue.", source, "en").faithful
    assert judge("Kevin Daly took a deposit to replace the roof of a bungalow on Orchard Close.", source,
                 "en").check == "place"


def test_who_visited_where():
    source = ("梁平區共有考生6218人，分布在梁平中學、紅旗中學2個考點。區招生考試中心主任伍建平介紹，今年共抽調監考人員1100餘人。"
              "當天，區長唐文彬到梁平中學考點巡查，要求確保考試安全順利。")
    assert judge("唐文彬到梁平中學考點巡查，要求確保高考安全順利", source, "zh-Hant").faithful
    assert judge("伍建平到梁平中學考點巡查，要求確保高考安全順利", source, "zh-Hant").check == "misplaced name"
    assert judge("區長唐文彬到紅旗中學考點巡查高考工作", source, "zh-Hant").check == "place"


def test_an_event_is_held_where_the_article_holds_it():
    source = "3月20日，梁平區稻漁綜合種養現場會在明達鎮召開。與會人員還參觀了竹山鎮的稻蝦基地。"
    assert judge("梁平區稻漁綜合種養現場會在明達鎮召開", source, "zh-Hant").faithful
    assert judge("梁平區稻漁綜合種養現場會在竹山鎮召開", source, "zh-Hant").check == "place"


def test_a_title_belongs_to_whom_the_article_gives_it():
    source = ("區應急管理局局長羅曉燕說，全區已轉移群眾236人。區氣象臺首席預報員譚立新表示，降雨將持續到明天。")
    assert judge("區應急管理局局長羅曉燕：已轉移群眾236人", source, "zh-Hant").faithful
    assert judge("區應急管理局局長譚立新：已轉移群眾236人", source, "zh-Hant").check == "misplaced name"


def test_a_quote_given_by_pronoun_belongs_to_the_person_before_it():
    source = ("Mayor Trent Abernathy welcomed the new plant on Tuesday. \"This is the largest private investment the "
              "town has seen since the mill closed,\" he said. Norvik's Elena Vasquez said hiring would start in May.")
    said = "the plant is the largest private investment the town has seen since the mill closed."
    assert judge(f"Mayor Trent Abernathy said {said}", source, "en").faithful
    assert judge(f"Elena Vasquez said {said}", source, "en").check == "misplaced name"


def test_the_gate_agrees_with_the_labelled_corpus():
    """Regression guard on the project's corpus (benchmarks/faithfulness.py prints the detail):
    per language, few faithful summaries refused and most unfaithful ones caught."""
    sources, summaries = faithfulness.load()
    assert len(summaries) >= 400 and {s["language"] for s in summaries} == {"en", "zh-Hant", "zh-Hans"}
    results = faithfulness.evaluate(sources, summaries)
    for language in ("en", "zh-Hant", "zh-Hans"):
        rows = [r for r in results if r["language"] == language]
        faithful = [r["refused"] for r in rows if r["label"] == "faithful"]
        unfaithful = [r["refused"] for r in rows if r["label"] != "faithful"]
        assert sum(faithful) / len(faithful) <= 0.10, language
        assert sum(unfaithful) / len(unfaithful) >= 0.60, language
