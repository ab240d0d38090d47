"""Summarization backends. Each turns a batch of texts of one language into summaries.

:func:`build_backend` picks a profile's backend from :data:`BACKENDS`, keyed by where its model
runs: an inference server (``kind: openai``) or an in-process engine (``engine``). A new backend
is one module with a class that takes the profile, plus one entry there.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from summarizer.profiles import CTRANSLATE2, OPENAI, TRANSFORMERS

if TYPE_CHECKING:
    from summarizer.profiles import Profile


class Backend(Protocol):
    """What every backend offers to :class:`summarizer.api.Summarizer`."""

    model: str

    def summarize_batch(
        self,
        texts: Sequence[str],
        language: str,
        titles: Sequence[str | None] | None = None,
    ) -> Sequence[str | Exception]:
        """Summaries for ``texts`` (all in ``language``), in the same order; ``titles``, when
        given, are the articles' headlines, which a summary should not just repeat. A backend
        that fails texts one by one (an inference server) puts the exception in a text's place."""
        ...


# where a profile's model runs -> "module:class" of its backend (imported when first needed)
BACKENDS = {
    OPENAI: "summarizer.backends.openai_chat:OpenAIChatBackend",
    TRANSFORMERS: "summarizer.backends.transformer:TransformerBackend",
    CTRANSLATE2: "summarizer.backends.ct2:CT2Backend",
}


def build_backend(profile: Profile) -> Backend:
    """The backend for a transformer, translation or inference-server profile."""
    module, _, name = BACKENDS[OPENAI if profile.kind == OPENAI else profile.engine].partition(":")
    return getattr(importlib.import_module(module), name)(profile)
