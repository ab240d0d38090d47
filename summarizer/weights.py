"""Getting a profile's weights onto this machine: what ``newsbot models pull`` does for each
profile (download from the Hugging Face hub, or nothing to download), the CTranslate2 conversion
that follows, and how ``newsbot models list`` reports them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.profiles import CTRANSLATE2, EXTRACTIVE, OPENAI, PACKAGE_PREFIX, Profile

if TYPE_CHECKING:
    from summarizer.api import Summarizer


@dataclass
class Step:
    """One line of a pull's report: ``failed`` steps are errors."""

    message: str
    failed: bool = False


def needs_download(profile: Profile) -> bool:
    """Whether the profile's weights come from the hub (not a folder, a path, a package or a server)."""
    return not (
        profile.kind in (EXTRACTIVE, OPENAI)
        or not profile.model
        or profile.model.startswith(PACKAGE_PREFIX)
        or Path(profile.model).is_dir()
        or (profile.gguf_file and Path(profile.gguf_file).is_absolute())
    )


def pull(summarizer: Summarizer, name: str) -> list[Step]:
    """Fetch profile ``name``'s weights where they come from the hub (only its GGUF file for a
    gguf_file profile), then convert them for CTranslate2 where its engine needs it."""
    from summarizer.backends.transformer import install_hint

    profile = summarizer.config.profiles[name]
    if profile.kind == OPENAI:
        steps = [Step(f"nothing to download ({profile.model} is served by {profile.base_url})")]
    elif profile.model and profile.model.startswith(PACKAGE_PREFIX):
        present = "installed" if summarizer.available(name) else f"not installed: {install_hint(profile)}"
        steps = [Step(f"nothing to download ({profile.model} comes with a Python package; {present})")]
    elif not needs_download(profile):
        steps = [Step(f"nothing to download ({profile.gguf_file or profile.model or 'no model weights needed'})")]
    else:
        steps = [download(profile)]
    if profile.engine == CTRANSLATE2 and profile.kind != OPENAI and not steps[-1].failed:
        steps.append(convert(profile))
    return steps


def download(profile: Profile) -> Step:
    """Download the profile's model (or its GGUF file) into the Hugging Face cache."""
    from huggingface_hub import snapshot_download

    assert profile.model is not None  # weights from the hub: needs_download(profile) holds
    try:
        snapshot_download(
            profile.model, revision=profile.revision, allow_patterns=[profile.gguf_file] if profile.gguf_file else None
        )
    except Exception as exc:  # hub errors come in many classes; report one line each
        return Step(f"cannot download {profile.model}: {str(exc).splitlines()[0]}", failed=True)
    return Step(f"{profile.model}@{profile.revision} ready")


def convert(profile: Profile) -> Step:
    """Convert the profile's weights for CTranslate2 (once; see :mod:`summarizer.backends.ct2`)."""
    from summarizer.backends import ct2

    try:
        folder = ct2.convert(profile)
    except (OSError, ValueError, ImportError) as exc:
        return Step(str(exc).splitlines()[0], failed=True)
    return Step(f"CTranslate2 {profile.compute_type} model in {folder}")


def status(summarizer: Summarizer, name: str) -> str:
    """A profile's weights as ``models list`` shows them: present or missing; for an inference
    server (openai), reachable or why not (it is asked for its models, briefly)."""
    profile = summarizer.config.profiles[name]
    if profile.kind == OPENAI:
        from summarizer.backends.openai_chat import probe

        problem = probe(profile)
        return f"unreachable: {problem}" if problem else "reachable"
    return "present" if summarizer.available(name) else "missing"
