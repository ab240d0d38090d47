"""Inference-server profiles (``kind: openai``): summaries from an OpenAI-compatible
``POST {base_url}/chat/completions`` endpoint, as vLLM, SGLang, llama.cpp's server and Ollama serve it.

A batch's requests run concurrently on an event loop of their own (the service summarizes in
worker threads), at most ``max_concurrency`` at a time.
One attempt may take ``timeout_seconds`` (connect to last byte); refused connections, timeouts,
429 and 5xx answers are tried again, MAX_ATTEMPTS attempts in all, after an exponential backoff
(or the server's ``Retry-After``); an article's requests, retries and waits together stop at its
deadline, MAX_ATTEMPTS × ``timeout_seconds`` after its first request started.

There is no local tokenizer: tokens are counted approximately (:class:`ApproximateTokens`) to
chunk long texts, which are map-reduced like the in-process models' (:func:`chunk_text`);
summaries are cut to the profile's budget (:func:`fit_to_budget`). An article that cannot be
summarized gets, in place of its summary, the error saying why: :class:`ServerUnavailable`
(unreachable, credentials refused, model not served: like missing weights) or
:class:`InferenceError` (timed out, an error answer, a garbage answer, a refusal).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from collections.abc import Awaitable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from summarizer.backends.extractive import fit_to_budget
from summarizer.backends.transformer import (
    HEADROOM,
    LANGUAGE_NAMES,
    MAX_REDUCE_ROUNDS,
    ModelUnavailable,
    _separator,
    chunk_text,
)
from summarizer.profiles import Profile
from summarizer.text import ZH_HANS, ZH_HANT, is_chinese

T = TypeVar("T")
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5  # before the second attempt; doubled before each later one
MAX_BACKOFF_SECONDS = 10.0  # the most a Retry-After is waited for
CONNECT_TIMEOUT_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 3.0
PROBE_TTL_SECONDS = 60.0  # how long :func:`reachable` trusts a probe
TOKENS_PER_UNIT = 2  # unless the profile sets max_new_tokens: tokens allowed per character (Chinese) or word of the budget
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MESSAGE_OVERHEAD = 4  # tokens a chat template adds around each message
SYSTEM_PROMPTS = {  # when the profile sets no prompt: the system message; the article is the user message
    ZH_HANT: "你為本地新聞簡報撰寫摘要。請用繁體中文，以一到兩句話、不超過{max_chars}字概括使用者提供的文章。"
    "只寫文章明確提到的事實，數字、日期和名稱照原文寫。只回覆摘要本身。",
    ZH_HANS: "你为本地新闻简报撰写摘要。请用简体中文，以一到两句话、不超过{max_chars}字概括用户提供的文章。"
    "只写文章明确提到的事实，数字、日期和名称照原文写。只回复摘要本身。",
    "": "You write summaries for a local news digest. Summarize the article the user gives in {language}, in one or "
    "two sentences of at most {max_words} words. Use only facts the article states; keep every number, date and "
    "name exactly as written. Answer with the summary alone.",
}
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S)  # reasoning models' scratchpad, when the server leaves it in
_REFUSAL = re.compile(
    r"^\W*(?:I['’]?m sorry|I am sorry|sorry,|I can(?:no|['’])t|I am unable|I['’]?m unable|As an AI|抱歉|很抱歉|對不起|对不起|"
    r"我無法|我无法|我不能)",
    re.I,
)


class ServerUnavailable(ModelUnavailable):
    """The inference server cannot serve the profile now: unreachable, the API key missing or
    refused, the model not served. Like missing weights: the articles are summarized again once
    it answers."""


class InferenceError(RuntimeError):
    """One article's request failed (timed out, an error or a garbage answer); the message says how."""


class ApproximateTokens:
    """Stands in for a tokenizer where the model is on a server: a token per Chinese character,
    Latin word or number, or other mark (each with the spaces before it), so that the pieces
    join back into the text. Enough to chunk texts for :func:`chunk_text`."""

    _PIECE = re.compile(r"\s*(?:[A-Za-z0-9]+|\S)|\s+")

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[str]]:
        return {"input_ids": self._PIECE.findall(text)}

    def decode(self, ids: Sequence[str], skip_special_tokens: bool = True) -> str:
        return "".join(ids)


TOKENS = ApproximateTokens()


def api_key(profile: Profile) -> str | None:
    """The API key from the environment variable ``api_key_env`` names (None when it names
    none); ServerUnavailable when that variable is unset or empty."""
    if not profile.api_key_env:
        return None
    key = os.environ.get(profile.api_key_env, "").strip()
    if not key:
        raise ServerUnavailable(f"the API key's environment variable {profile.api_key_env} (api_key_env) is not set")
    return key


def _client(profile: Profile, key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(base_url=profile.base_url or "", headers=headers)


def _error_message(response: httpx.Response) -> str:
    """``HTTP 401 Unauthorized: <the server's error message>``, the message cut short."""
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):  # not JSON, or not an object
        message = None
    text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return f"{text}: {' '.join(str(message).split())[:200]}" if message else text


def _transport_error(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def probe(profile: Profile, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None when the server answers ``GET {base_url}/models`` within ``timeout`` seconds (a
    total), else why not, in a few words."""
    try:
        key = api_key(profile)
    except ServerUnavailable as exc:
        return str(exc)

    async def ask() -> str | None:
        async with _client(profile, key) as client:
            try:
                async with asyncio.timeout(timeout):
                    response = await client.get("models", timeout=timeout)
            except (TimeoutError, httpx.TimeoutException):
                return f"no answer within {timeout:g} s"
            except httpx.HTTPError as exc:
                return _transport_error(exc)
        return None if response.is_success else _error_message(response)

    return _run(ask())


_PROBES: dict[tuple[str | None, str | None], tuple[float, bool]] = {}


def reachable(profile: Profile) -> bool:
    """Whether the profile's server answered :func:`probe` (asked again once the last answer is
    PROBE_TTL_SECONDS old)."""
    key = (profile.base_url, profile.api_key_env)
    checked = _PROBES.get(key)
    if checked is None or time.monotonic() - checked[0] > PROBE_TTL_SECONDS:
        checked = _PROBES[key] = (time.monotonic(), probe(profile) is None)
    return checked[1]


def _content(response: httpx.Response) -> str:
    """The summary in a 2xx answer; InferenceError for garbage (not JSON, no choices, the wrong
    shape, empty) and for refusals."""

    def garbage(what: str) -> InferenceError:
        return InferenceError(f"inference server answered garbage: {what}")

    try:
        data = response.json()
    except ValueError:
        raise garbage(f"not JSON ({' '.join(response.text.split())[:60]!r})") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise garbage("no choices")
    message = choices[0].get("message")
    if isinstance(message, dict) and message.get("refusal"):
        raise InferenceError(f"inference server refused: {' '.join(str(message['refusal']).split())[:100]}")
    if choices[0].get("finish_reason") == "content_filter":
        raise InferenceError("inference server refused: its content filter stopped the answer")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise garbage("no message content")
    content = _THINKING.sub("", content).strip()
    if not content:
        raise garbage("an empty answer")
    if _REFUSAL.match(content):
        raise InferenceError(f"inference server refused: {' '.join(content.split())[:100]!r}")
    return content


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``coroutine`` run to completion on a new event loop: in this thread, or in a helper thread
    when this one already runs a loop (the caller then waits, as for an in-process model)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _together(calls: Iterable[Awaitable[str]]) -> list[str]:
    """Results of ``calls`` run concurrently; the first failure cancels the others and is raised."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


class _Deadline:
    """An article's deadline, set when its first request starts."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at: float | None = None

    def left(self) -> float:
        """Seconds left (the clock starts on the first call)."""
        if self.at is None:
            self.at = time.monotonic() + self.seconds
        return self.at - time.monotonic()


class _Batch:
    """What one ``summarize_batch`` call's requests share: the client, the concurrency slots,
    and the server found unavailable (the batch's later requests then fail at once)."""

    def __init__(self, client: httpx.AsyncClient, slots: int) -> None:
        self.client = client
        self.slots = asyncio.Semaphore(slots)
        self.down: ServerUnavailable | None = None


class OpenAIChatBackend:
    """Summaries from an inference server's OpenAI-compatible chat completions."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.model = profile.model or ""
        self.revision = profile.revision

    def summarize_batch(
        self,
        texts: Sequence[str],
        language: str,
        titles: Sequence[str | None] | None = None,
        output_language: str | None = None,
    ) -> list[str | Exception]:
        """Summaries of ``texts`` within the profile's budget, in ``output_language`` when given
        (else ``language``); an article that could not be summarized gets the error instead
        (ServerUnavailable or InferenceError). Raises ServerUnavailable when the API key's
        variable is unset. With ``titles``, an opening sentence that only restates the title is
        dropped when more follows."""
        key = api_key(self.profile)
        writing = output_language or language

        async def run() -> list[str | Exception]:
            async with _client(self.profile, key) as client:
                batch = _Batch(client, self.profile.max_concurrency)
                return list(
                    await asyncio.gather(
                        *(
                            self._summary_or_error(batch, text, language, writing, title)
                            for text, title in zip(texts, titles or [None] * len(texts))
                        )
                    )
                )

        return _run(run())

    def generate_text(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """The server's answers to ``prompts`` (each the user message of a chat of its own), at
        most ``max_new_tokens`` tokens each, with the profile's sampling settings, requested
        concurrently (retried as summaries are); raises ServerUnavailable or InferenceError."""
        key = api_key(self.profile)

        async def run() -> list[str]:
            async with _client(self.profile, key) as client:
                batch = _Batch(client, self.profile.max_concurrency)
                return await _together(
                    self._complete(
                        batch,
                        self._body([{"role": "user", "content": prompt}], max_new_tokens),
                        _Deadline(MAX_ATTEMPTS * self.profile.timeout_seconds),
                    )
                    for prompt in prompts
                )

        return _run(run())

    async def _summary_or_error(
        self, batch: _Batch, text: str, language: str, writing: str, title: str | None
    ) -> str | Exception:
        try:
            return await self._summarize(batch, text, language, writing, title)
        except (ServerUnavailable, InferenceError) as exc:
            return exc

    async def _summarize(self, batch: _Batch, text: str, language: str, writing: str, title: str | None) -> str:
        """One article's summary. Map-reduce: while a text needs several chunks, its chunk
        summaries (written concurrently) are summarized again, at most MAX_REDUCE_ROUNDS times."""
        deadline = _Deadline(MAX_ATTEMPTS * self.profile.timeout_seconds)
        budget = max(1, self.profile.max_input_tokens - self._prompt_tokens(writing))
        max_tokens = self.profile.generation.max_new_tokens or math.ceil(
            self.profile.budget(writing) * TOKENS_PER_UNIT * HEADROOM
        )
        current, reading = text, language
        for _round in range(MAX_REDUCE_ROUNDS + 1):
            chunks = chunk_text(TOKENS, current, budget, _separator(reading))
            outputs = await _together(
                self._complete(batch, self._body(self._messages(chunk, writing), max_tokens), deadline) for chunk in chunks
            )
            current, reading = _separator(writing).join(outputs).strip(), writing
            if len(chunks) == 1:
                break
        summary = current if is_chinese(writing) else " ".join(current.split())
        return fit_to_budget(summary, self.profile.budget(writing), writing, title)

    def _messages(self, text: str, writing: str) -> list[dict[str, str]]:
        """The chat: the profile's prompt as the user message, or else the default system
        prompt for ``writing`` with the article as the user message."""
        values = {
            "text": text,
            "language": LANGUAGE_NAMES.get(writing, writing),
            "max_chars": self.profile.max_chars,
            "max_words": self.profile.max_words,
        }
        if "prompt" in self.profile.model_fields_set:
            return [{"role": "user", "content": self.profile.prompt.format(**values)}]
        system = SYSTEM_PROMPTS.get(writing, SYSTEM_PROMPTS[""]).format(**values)
        return [{"role": "system", "content": system}, {"role": "user", "content": text}]

    def _prompt_tokens(self, writing: str) -> int:
        """Approximate tokens of the chat around the article."""
        messages = self._messages("", writing)
        return sum(len(TOKENS(m["content"])["input_ids"]) + MESSAGE_OVERHEAD for m in messages)

    def _body(self, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
        """The request: the chat, ``max_tokens``, ``temperature`` (0 for ``do_sample: false``)
        and ``top_p``; beam settings have no counterpart and are left out."""
        generation = self.profile.generation
        body: dict[str, Any] = {"model": self.profile.model, "messages": messages, "stream": False, "max_tokens": max_tokens}
        if generation.temperature is not None:
            body["temperature"] = generation.temperature
        elif generation.do_sample is False:
            body["temperature"] = 0
        if generation.top_p is not None:
            body["top_p"] = generation.top_p
        return body

    async def _complete(self, batch: _Batch, body: dict[str, Any], deadline: _Deadline) -> str:
        """The server's answer to one request: at most MAX_ATTEMPTS attempts, each within
        ``timeout_seconds`` and the article's deadline, with backoff between them."""
        failure: ServerUnavailable | InferenceError | None = None
        for attempt in range(MAX_ATTEMPTS):
            wait = BACKOFF_SECONDS * 2**attempt
            async with batch.slots:
                if batch.down:
                    raise batch.down
                limit = min(self.profile.timeout_seconds, deadline.left())
                if limit <= 0:
                    break
                try:
                    timeout = httpx.Timeout(limit, connect=min(limit, CONNECT_TIMEOUT_SECONDS))
                    async with asyncio.timeout(limit):
                        response = await batch.client.post("chat/completions", json=body, timeout=timeout)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    where = self.profile.base_url
                    failure = ServerUnavailable(f"inference server unreachable: {where} ({_transport_error(exc)})")
                except (TimeoutError, httpx.TimeoutException):
                    failure = InferenceError(f"inference server timed out: no answer within {limit:g} s")
                except httpx.TransportError as exc:  # the connection dropped mid-answer
                    failure = InferenceError(f"inference server broke off: {_transport_error(exc)}")
                else:
                    if response.is_success:
                        return _content(response)
                    failure = self._http_error(response)
                    if response.status_code not in RETRY_STATUSES:
                        break
                    wait = _retry_after(response) or wait
            if attempt + 1 < MAX_ATTEMPTS:
                await asyncio.sleep(max(0.0, min(wait, deadline.left())))
        if failure is None or deadline.left() <= 0:
            passed = f"the article's deadline of {deadline.seconds:g} s passed"
            failure = InferenceError(f"{failure}; {passed}" if failure else f"inference server timed out: {passed}")
        if isinstance(failure, ServerUnavailable):
            batch.down = failure  # set before another request gets the slot: the batch's others fail at once
        raise failure

    def _http_error(self, response: httpx.Response) -> ServerUnavailable | InferenceError:
        """The error for a non-2xx answer: credentials refused or model not found make the server
        unavailable for the profile; anything else is this request's failure."""
        message = _error_message(response)
        if response.status_code in (401, 403):
            return ServerUnavailable(f"inference server refused the credentials ({message}); check api_key_env")
        if response.status_code == 404:
            where = self.profile.base_url
            return ServerUnavailable(f"inference server has no model {self.profile.model!r} at {where} ({message})")
        return InferenceError(f"inference server answered {message}")


def _retry_after(response: httpx.Response) -> float | None:
    """The server's ``Retry-After`` in seconds (at most MAX_BACKOFF_SECONDS), when it gives one."""
    try:
        return min(MAX_BACKOFF_SECONDS, max(0.0, float(response.headers.get("retry-after", ""))))
    except ValueError:
        return None
