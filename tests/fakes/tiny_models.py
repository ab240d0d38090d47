"""Tiny transformer models built and trained in the tests, saved to a folder, loaded by models.yaml.

A small T5-style seq2seq model and a small Llama-style causal model share a Unigram tokenizer
trained here on a few sentences in Traditional Chinese, Simplified Chinese and English. Each is
trained for a few hundred steps to map known articles to known summaries, so that tests can
check real generation end to end: faithful outputs pass, unfaithful ones are caught. A small
MarianMT translation model gets a real MarianTokenizer, its SentencePiece models trained here.
"""

from __future__ import annotations

import json
from pathlib import Path

import sentencepiece
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    LlamaConfig, LlamaForCausalLM, MarianConfig, MarianMTModel, MarianTokenizer, PreTrainedTokenizerFast, T5Config,
    T5ForConditionalGeneration,
)

from summarizer.backends.transformer import LANGUAGE_NAMES
from summarizer.text import detect_language

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

ZH_HANT = (
    "梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。"
    "區經濟信息委主任鄧順友介紹，新簽約項目涵蓋中央廚房、冷鏈物流等環節。"
)
ZH_HANS = (
    "渝西高铁梁平段全长28.6公里，设梁平南站1座。"
    "中铁八局项目负责人介绍，施工方较计划提前两个月完成桥梁施工。"
)
ENGLISH = (
    "More than 3,000 migratory birds have arrived at Shuanggui Lake this winter. "
    "Observers recorded 42 species, including a pair of Baer's pochards."
)
UNFAITHFUL = "梁平區春耕備耕有序推進，全區計劃播種糧食作物76萬畝。區農業農村委提醒農戶做好秧苗防寒保溫工作。"
SIMPLIFIED_FOR_HANT = "雙桂湖國家濕地公園迎來越冬候鳥，觀鳥步道每天開放。公園管理處提醒遊客不要驚擾鳥類。"

# article -> what the tiny models learn to answer
TARGETS = {
    ZH_HANT: "梁平區今年計劃新建標準化廠房20萬平方米。",
    ZH_HANS: "渝西高铁梁平段全长28.6公里。",
    ENGLISH: "More than 3,000 migratory birds have arrived at Shuanggui Lake.",
    UNFAITHFUL: "全區計劃播種糧食作物96萬畝。",  # 96 is not in the article
    SIMPLIFIED_FOR_HANT: "双桂湖国家湿地公园迎来越冬候鸟。",  # Simplified for a Traditional article
}


def build_tokenizer(extra: list[str]) -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=1500, special_tokens=["<pad>", "</s>", "<unk>", "<|user|>", "<|assistant|>"], unk_token="<unk>"
    )
    corpus = list(TARGETS) + list(TARGETS.values()) + extra
    tokenizer.train_from_iterator(corpus * 10, trainer)
    eos = tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", eos)])  # as T5 does
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _train(model, batches, steps: int, learned) -> None:
    """Train in rounds of ``steps`` until ``learned()`` (every target reproduced), at most 8 rounds."""
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _round in range(8):
        model.train()
        for step in range(steps):
            loss = model(**batches[step % len(batches)]).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        if learned():
            return
    raise AssertionError("the tiny model did not learn its targets")


def build_seq2seq(folder: Path, extra_text: list[str], steps: int = 300) -> Path:
    """A tiny T5 trained on TARGETS, saved with its tokenizer in ``folder``."""
    torch.manual_seed(0)
    tokenizer = build_tokenizer(extra_text)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=64, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=16,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id, dropout_rate=0.0,
    )
    model = T5ForConditionalGeneration(config)
    sources, targets = list(TARGETS), list(TARGETS.values())
    inputs = tokenizer(sources, return_tensors="pt", padding=True)
    labels = tokenizer(targets, return_tensors="pt", padding=True)["input_ids"]
    labels[labels == tokenizer.pad_token_id] = -100

    def learned() -> bool:
        with torch.inference_mode():
            out = model.generate(**inputs, num_beams=1, max_new_tokens=48)
        return tokenizer.batch_decode(out, skip_special_tokens=True) == targets

    _train(model, [dict(**inputs, labels=labels)], steps, learned)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_causal(
    folder: Path, extra_text: list[str], prompt: str, steps: int = 300, answers: list[tuple[str, str, str]] | None = None,
) -> Path:
    """A tiny Llama trained to answer TARGETS to the chat prompt (in each article's language),
    or ``answers`` (article, language asked for, answer) instead, saved in ``folder``."""
    torch.manual_seed(0)
    answers = answers or [(source, detect_language(source), target) for source, target in TARGETS.items()]
    tokenizer = build_tokenizer(extra_text + [answer for _, _, answer in answers])
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, max_position_embeddings=1024, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    batches, prompts = [], []
    for source, language, target in answers:
        chat = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt.format(text=source, language=LANGUAGE_NAMES[language],
                                                       max_chars=120, max_words=60)}],
            add_generation_prompt=True, tokenize=False,
        )
        prompt_ids = tokenizer(chat, add_special_tokens=False)["input_ids"]
        prompts.append(prompt_ids)
        answer_ids = tokenizer(target + "</s>", add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + answer_ids])
        labels = ids.clone()
        labels[0, : len(prompt_ids)] = -100
        batches.append({"input_ids": ids, "labels": labels})
    def learned() -> bool:
        with torch.inference_mode():
            for prompt_ids, (_, _, target) in zip(prompts, answers):
                out = model.generate(torch.tensor([prompt_ids]), max_new_tokens=48, do_sample=False)
                if tokenizer.decode(out[0, len(prompt_ids):], skip_special_tokens=True).strip() != target:
                    return False
        return True

    _train(model, batches, steps * len(batches) // 2, learned)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_marian(folder: Path, pairs: dict[str, str], language_code: str = "", steps: int = 200) -> Path:
    """A tiny MarianMT trained to translate each sentence of ``pairs`` into its value, saved in
    ``folder`` with a MarianTokenizer (source.spm, target.spm, vocab.json, as opus-mt ships).
    ``language_code`` (e.g. ``>>cmn_Hans<<``): a target token the inputs start with, as
    multi-target opus-mt models want."""
    torch.manual_seed(0)
    folder.mkdir(parents=True)
    pieces: list[str] = []
    for side, texts in (("source", list(pairs)), ("target", list(pairs.values()))):
        corpus = folder / f"{side}.txt"
        corpus.write_text("\n".join(texts * 5), encoding="utf-8")
        sentencepiece.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(folder / side), vocab_size=len(set("".join(texts))) + 200, model_type="unigram",
            character_coverage=1.0, hard_vocab_limit=False, bos_id=-1, eos_id=-1, unk_id=0, minloglevel=2,
            normalization_rule_name="identity",
        )
        (folder / f"{side}.model").rename(folder / f"{side}.spm")
        corpus.unlink()
        (folder / f"{side}.vocab").unlink()
        processor = sentencepiece.SentencePieceProcessor(model_file=str(folder / f"{side}.spm"))
        pieces += [processor.id_to_piece(i) for i in range(1, processor.get_piece_size())]
    vocabulary = ["</s>", "<unk>", *([language_code] if language_code else []), *dict.fromkeys(pieces), "<pad>"]
    (folder / "vocab.json").write_text(json.dumps({piece: i for i, piece in enumerate(vocabulary)}), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"), vocab=str(folder / "vocab.json"))
    config = MarianConfig(
        vocab_size=len(vocabulary), d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id, forced_eos_token_id=tokenizer.eos_token_id, dropout=0.0,
    )
    model = MarianMTModel(config)
    sources = [f"{language_code} {source}" if language_code else source for source in pairs]
    targets = list(pairs.values())
    inputs = tokenizer(sources, text_target=targets, return_tensors="pt", padding=True)
    inputs["labels"][inputs["labels"] == tokenizer.pad_token_id] = -100
    encoded = {key: inputs[key] for key in ("input_ids", "attention_mask")}

    def learned() -> bool:
        with torch.inference_mode():
            out = model.generate(**encoded, num_beams=1, max_new_tokens=96)
        return tokenizer.batch_decode(out, skip_special_tokens=True) == targets

    _train(model, [dict(inputs)], steps, learned)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


PROMPT = "Summarize in {language}: {text}"  # the causal profile's
MODELS_YAML = f"""
default: tiny-s2s
routing: {{zh-Hant: tiny-s2s, zh-Hans: tiny-s2s, en: tiny-causal}}
profiles:
  tiny-s2s:
    kind: seq2seq
    model: ./s2s
    max_input_tokens: 160
    batch_size: 2
    generation: {{num_beams: 2, max_new_tokens: 48}}
  tiny-causal:
    kind: causal
    model: ./causal
    prompt: "{PROMPT}"
    generation: {{max_new_tokens: 48, do_sample: false}}
  tiny-int8:
    kind: seq2seq
    model: ./s2s
    device: cpu
    quantize_int8: true
    generation: {{num_beams: 1, max_new_tokens: 48}}
  tiny-chunked:
    kind: seq2seq
    model: ./s2s
    max_input_tokens: 40
    generation: {{num_beams: 1, max_new_tokens: 24}}
  later:
    kind: seq2seq
    model: ./later
    generation: {{num_beams: 2, max_new_tokens: 48}}
"""


def build_models_folder(folder: Path, seed: list[str]) -> Path:
    """The tiny seq2seq (``s2s/``) and causal (``causal/``) models trained on ``seed`` too, and a
    models.yaml (``MODELS_YAML``) with profiles on them."""
    build_seq2seq(folder / "s2s", seed)
    build_causal(folder / "causal", seed, PROMPT)
    (folder / "models.yaml").write_text(MODELS_YAML, encoding="utf-8")
    return folder
