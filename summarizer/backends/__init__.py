"""Summarization backends. Each turns a batch of texts of one language into summaries."""

from typing import Protocol, Sequence


class Backend(Protocol):
    """What every backend offers to :class:`summarizer.api.Summarizer`."""

    model: str

    def summarize_batch(
        self, texts: Sequence[str], language: str, titles: Sequence[str | None] | None = None,
    ) -> Sequence[str | Exception]:
        """Summaries for ``texts`` (all in ``language``), in the same order; ``titles``, when
        given, are the articles' headlines, which a summary should not just repeat. A backend
        that fails texts one by one (an inference server) puts the exception in a text's place."""
        ...
