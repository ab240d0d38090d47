"""Article texts that several test modules summarise, split or compare."""

from __future__ import annotations

from summarizer.weather.bulletins import parse_bulletins
from tests.support.data import SEED_TEXT

SEED_BODY = parse_bulletins(SEED_TEXT.read_text(encoding="utf-8"))[0]
ENGLISH = (
    "More than 3,000 migratory birds have arrived at Shuanggui Lake this winter, the forestry bureau said on Saturday. "
    "Observers recorded 42 species, including a pair of Baer's pochards. "
    "Liangping was named an International Wetland City in 2022. "
    "The district has since restored 1,200 hectares of wetland and banned fishing in the core zone. "
    "Visitors are asked to keep at least 50 meters from the birds. "
    "The trail is open from 8 am to 6 pm daily. "
    "Mr. Tang said the birds need quiet. It is the highest count since 2015."
)
BODY_ZH = "梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。區經濟信息委主任介紹，新簽約項目涵蓋中央廚房、冷鏈物流、調味品和包裝材料等上下游環節，產業鏈條進一步完善。截至目前，產業園已集聚預制菜企業68家，去年實現產值102億元。梁平依托張鴨子、梁平柚等特色農產品，全力打造中國西部預制菜之都，持續優化營商環境，讓企業進得來、留得住、發展好。"
