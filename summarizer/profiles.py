"""The ``models.yaml`` schema: named summarization profiles and routing by language."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

EXTRACTIVE = "extractive"


class ProfileError(ValueError):
    """models.yaml is missing, unreadable or invalid; the message names file and key."""


class Profile(BaseModel):
    """One summarization profile."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["extractive"] = "extractive"
    languages: list[str] = Field(default_factory=lambda: ["zh-Hant", "zh-Hans", "en"])
    max_chars: int = Field(120, gt=10, description="summary budget for Chinese, in characters")
    max_words: int = Field(60, gt=5, description="summary budget for other languages, in words")
    licence: str = ""


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


def load_models_config(path: str | Path) -> ModelsConfig:
    """Read and validate a models.yaml file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return ModelsConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ProfileError(f"{path}: key '{key}': {first['msg']}") from exc
