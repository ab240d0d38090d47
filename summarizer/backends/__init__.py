"""Summarization backends. Each turns a batch of texts of one language into summaries."""

from typing import Protocol, Sequence


class Backend(Protocol):
    """What every backend offers to :class:`summarizer.api.Summarizer`."""

    model: str

    def summarize_batch(self, texts: Sequence[str], language: str, titles: Sequence[str | None] | None = None) -> list[str]:
        """Summaries for ``texts`` (all in ``language``), in the same order; ``titles``, when
        given, are the articles' headlines, which a summary should not just repeat."""
        ...
