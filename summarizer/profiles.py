"""The ``models.yaml`` schema: named summarization profiles and routing by language."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from summarizer.text import is_chinese

EXTRACTIVE = "extractive"
# The copy of the top-level models.yaml shipped in the package (a symlink in a source checkout).
PACKAGED_MODELS_FILE = Path(__file__).absolute().with_name("models.yaml")
DEFAULT_PROMPT = (
    "Summarize the following local news article in {language}, in at most {max_chars} characters "
    "(Chinese) or {max_words} words (English). Use only facts stated in the article; keep every "
    "number, date and name exactly as written.\n\n{text}"
)


class ProfileError(ValueError):
    """models.yaml is missing, unreadable or invalid; the message names file and key."""


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
    """One summarization profile: the extractive summarizer, or a transformer model."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    kind: Literal["extractive", "seq2seq", "causal"] = "extractive"
    model: str | None = Field(None, description="Hugging Face model id or local folder")
    revision: str = Field("main", description="branch, tag or commit of the model")
    languages: list[str] = Field(default_factory=lambda: ["zh-Hant", "zh-Hans", "en"])
    max_input_tokens: int = Field(512, ge=16, description="longer texts are chunked and map-reduced")
    batch_size: int = Field(8, ge=1, description="articles per generate call")
    generation: Generation = Field(default_factory=Generation)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    quantize_int8: bool = Field(False, description="dynamic int8 quantization of Linear layers on CPU")
    prompt: str = Field(DEFAULT_PROMPT, description="causal models: the user message; {text} is the article")
    max_chars: int = Field(60, gt=10, description="summary budget for Chinese, in characters")
    max_words: int = Field(35, gt=5, description="summary budget for other languages, in words")
    licence: str = ""

    @model_validator(mode="after")
    def _model_for_transformers(self) -> "Profile":
        if self.kind != EXTRACTIVE and not self.model:
            raise ValueError(f"a {self.kind} profile needs 'model' (a Hugging Face id or a local folder)")
        if self.kind == "causal" and "{text}" not in self.prompt:
            raise ValueError("'prompt' must contain {text}, where the article goes")
        return self

    def budget(self, language: str) -> int:
        """The summary budget for ``language``: characters for Chinese, words otherwise."""
        return self.max_chars if is_chinese(language) else self.max_words


class ModelsConfig(BaseModel):
    """Profiles, the language → profile routing table and the default profile."""

    model_config = ConfigDict(extra="forbid")

    default: str = EXTRACTIVE
    routing: dict[str, str] = Field(default_factory=dict)
    profiles: dict[str, Profile] = Field(default_factory=lambda: {EXTRACTIVE: Profile()})

    @model_validator(mode="after")
    def _known_profiles(self) -> "ModelsConfig":
        self.profiles.setdefault(EXTRACTIVE, Profile())
        for where, name in [("default", self.default), *((f"routing.{k}", v) for k, v in self.routing.items())]:
            if name not in self.profiles:
                raise ValueError(f"{where} names unknown profile {name!r} (known: {', '.join(sorted(self.profiles))})")
        return self

    def route(self, language: str) -> str:
        """Profile name for a language: routing table, else the default."""
        return self.routing.get(language, self.default)


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
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ProfileError(f"{path}: key '{key}': {first['msg'].removeprefix('Value error, ')}") from exc
    base = Path.cwd() if Path(os.path.abspath(path)) == PACKAGED_MODELS_FILE else path.parent
    for profile in config.profiles.values():
        if profile.model and profile.model.startswith((".", "/", "~")):
            profile.model = str((base / Path(profile.model).expanduser()).resolve())
    return config
