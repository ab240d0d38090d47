"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real Application.

It speaks the Bot API's HTTP shape: form-encoded requests with JSON-encoded values, answers
``{"ok": ..., "result": ...}``, long-polled ``getUpdates``. ``sendMessage`` rejects invalid
HTML (unclosed or mismatched tags) and texts over 4096 UTF-16 code units like Telegram does; tests can make chats answer 429 with
``retry_after``, 403 (blocked), or 400 with ``migrate_to_chat_id``. ``editMessageText`` answers 400
"message is not modified" when the new text and keyboard equal the message's current ones.

``sendPhoto`` takes an upload (multipart, as the real Bot API does), a file id it gave out or
an http(s) URL; it rejects pictures that are not PNG or JPEG, unknown ids, URLs in
``refused_urls`` and captions over 1,024 characters; ``refuse_photos`` refuses every photo
(a string: with that description, e.g. a group's "not enough rights to send photos").
Each photo sent is in ``sent`` like a message, with its ``photo`` (bytes, id or URL).

Outages for crash-safety tests: ``down`` turns every request away (True or "drop": the
connection is closed without an answer; "502": Bad Gateway); ``unanswered`` holds the
``sendMessage`` requests received but not yet answered, by chat.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import html.parser
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span", "blockquote"}
JSON_FIELDS = {"chat_id", "user_id", "message_thread_id", "reply_markup", "link_preview_options", "offset", "limit", "timeout",
               "allowed_updates", "commands", "message_id", "show_alert", "scope"}


class _HTMLCheck(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"can't find end tag corresponding to start tag \"{tag}\""
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def check_html(text: str) -> tuple[str | None, str]:
    """(error, visible text) as Telegram would see an HTML message."""
    parser = _HTMLCheck()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        parser.error = f"can't find end tag corresponding to start tag \"{parser.stack[-1]}\""
    outside_tags = re.sub(r"</?[a-zA-Z][^<>]*>", "", text)
    if not parser.error and (re.search(r"[<>]", outside_tags) or re.search(r"&(?!#?\w+;)", outside_tags)):
        parser.error = "unescaped <, > or & outside a tag or entity"
    return parser.error, "".join(parser.text)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many replies at once (floods): a backlog of 5 would stall connections under load


class FakeTelegram:
    """The fake server; ``base_url`` goes into ``[telegram] api_base_url``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict] = []
        self.sent: list[dict] = []
        self.edits: list[dict] = []
        self.calls: list[tuple[str, dict]] = []
        self.rejected: list[tuple[str, dict, str]] = []
        self.blocked: set[int] = set()
        self.migrations: dict[int, int] = {}
        self.flood: dict[int, int] = {}
        self.failing: dict[int, int] = {}  # chat -> how many sendMessage calls answer 502 first
        self.send_latency = 0.0  # seconds before sendMessage answers
        self.held: set[int] = set()  # chats whose sendMessage calls wait until released (discard, then notify)
        self._sending = 0
        self.max_in_flight = 0  # most sendMessage calls being answered at once
        self.plain_members: set[tuple[int, int]] = set()  # (chat, user) pairs that are not group admins
        self.down: bool | str = False  # an outage: True/"drop" hangs up without answering, "502" answers Bad Gateway
        self.refused = 0  # requests turned away by an outage
        self.unanswered: dict[int, int] = {}  # chat id -> sendMessage requests received but not yet answered
        self.contents: dict[tuple[int, int], tuple[str, dict | None]] = {}  # (chat, message) -> (text, reply_markup)
        self.file_ids: dict[str, bytes] = {}  # photos uploaded, by the file id given out
        self.refused_urls: set[str] = set()  # photo URLs answered "wrong file identifier/HTTP URL specified"
        self.refuse_photos: bool | str = False  # every sendPhoto answers 400 (a string: with that description)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._condition = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                content_type = self.headers.get("Content-Type") or ""
                if content_type.startswith("multipart/form-data"):
                    params = _multipart(content_type, raw)
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
                for key in JSON_FIELDS & params.keys():
                    params[key] = json.loads(params[key])
                prefix, _, method = self.path.strip("/").partition("/")
                if fake.down:
                    with fake._condition:
                        fake.refused += 1
                    if fake.down == "502":
                        self._answer(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                    return  # otherwise hang up without an answer
                chat_id = int(params["chat_id"]) if method in ("sendMessage", "sendPhoto") and "chat_id" in params else None
                fake._unanswered(chat_id, +1)
                try:
                    status, answer = fake._dispatch(prefix, method, params)
                    self._answer(status, json.dumps(answer).encode(), "application/json")
                finally:
                    fake._unanswered(chat_id, -1)

            def _answer(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # clients hanging up at shutdown
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/bot"
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()  # closes fast

    def _unanswered(self, chat_id: int | None, change: int) -> None:
        if chat_id is None:
            return
        with self._condition:
            count = self.unanswered.get(chat_id, 0) + change
            if count:
                self.unanswered[chat_id] = count
            else:
                self.unanswered.pop(chat_id, None)

    def release(self) -> None:
        """Let the held chats' sendMessage calls through."""
        with self._condition:
            self.held.clear()
            self._condition.notify_all()

    def close(self) -> None:
        with self._condition:
            self.held.clear()
            self._condition.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- what users do ---------------------------------------------------------------

    def user_says(self, chat_id: int, text: str, user_id: int | None = None, language_code: str = "zh-hant",
                  chat_type: str = "private", thread_id: int | None = None) -> None:
        """A message from a user; commands carry a bot_command entity as Telegram sends them."""
        user_id = user_id or chat_id
        message = {
            "message_id": next(self._message_ids), "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": chat_type, **({"title": "Group"} if chat_type != "private" else {"first_name": "R"})},
            "from": {"id": user_id, "is_bot": False, "first_name": "Resident", "language_code": language_code},
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self._add_update({"message": message})

    def user_shares_location(self, chat_id: int, latitude: float, longitude: float, language_code: str = "zh-hant",
                             chat_type: str = "private") -> None:
        """A location shared from the attachment menu."""
        self._add_update({"message": {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "location": {"latitude": latitude, "longitude": longitude},
            "chat": {"id": chat_id, "type": chat_type, **({"title": "Group"} if chat_type != "private" else {"first_name": "R"})},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": language_code},
        }})

    def user_taps(self, chat_id: int, data: str, message: dict, user_id: int | None = None, language_code: str = "zh-hant",
                  chat_type: str = "private") -> None:
        """A tap on an inline keyboard button under ``message`` (one the bot sent)."""
        user_id = user_id or chat_id
        self._add_update({"callback_query": {
            "id": str(next(self._update_ids)), "chat_instance": "ci", "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "Resident", "language_code": language_code},
            "message": {"message_id": message["message_id"], "date": int(time.time()), "text": message["text"],
                        "chat": {"id": chat_id, "type": chat_type, **({"title": "Group"} if chat_type != "private" else {"first_name": "R"})}},
        }})

    def user_edits(self, chat_id: int, text: str, language_code: str = "zh-hant") -> None:
        """A private message edited into ``text`` (Telegram sends it as ``edited_message``)."""
        self._add_update({"edited_message": {
            "message_id": next(self._message_ids), "date": int(time.time()), "edit_date": int(time.time()), "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else [],
            "chat": {"id": chat_id, "type": "private", "first_name": "R"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": language_code},
        }})

    def channel_posts(self, chat_id: int, text: str) -> None:
        """A post in a channel the bot is an admin of (no sender, as Telegram sends it)."""
        self._add_update({"channel_post": {
            "message_id": next(self._message_ids), "date": int(time.time()), "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else [],
            "chat": {"id": chat_id, "type": "channel", "title": "Channel"},
        }})

    def _add_update(self, payload: dict) -> None:
        with self._condition:
            self.updates.append({"update_id": next(self._update_ids), **payload})
            self._condition.notify_all()

    # -- what tests wait for -----------------------------------------------------------

    async def wait_for(self, predicate, timeout: float = 15.0) -> list[dict]:
        """Wait (letting the bot's event loop run) until ``predicate(sent)`` holds, or fail."""
        deadline = time.monotonic() + timeout
        while not predicate(list(self.sent)):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; sent so far: {[m['text'][:60] for m in self.sent]}")
            await asyncio.sleep(0.02)
        return list(self.sent)

    def messages_to(self, chat_id: int) -> list[dict]:
        return [m for m in self.sent if m["chat_id"] == chat_id]

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 15.0) -> list[dict]:
        """Wait until ``chat_id`` has received ``count`` messages in all."""
        await self.wait_for(lambda sent: len([m for m in sent if m["chat_id"] == chat_id]) >= count, timeout)
        return self.messages_to(chat_id)

    # -- the Bot API ---------------------------------------------------------------------

    def _dispatch(self, prefix: str, method: str, params: dict) -> tuple[int, dict]:
        if prefix != f"bot{self.token}":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        self.calls.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return 200, {"ok": True, "result": True}
        return handler(params)

    def _api_getMe(self, params):  # noqa: N802
        return 200, {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "newsbot", "username": "newsbot_test_bot",
                                            "can_join_groups": True, "can_read_all_group_messages": False,
                                            "supports_inline_queries": False}}

    def _api_getChatMember(self, params):  # noqa: N802
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = "member" if (chat_id, user_id) in self.plain_members else "administrator"
        member = {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "Resident"}}
        if status == "administrator":
            member.update({key: True for key in (
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
                "can_post_stories", "can_edit_stories", "can_delete_stories")})
        return 200, {"ok": True, "result": member}

    def _api_getUpdates(self, params):  # noqa: N802
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 2.0)
        with self._condition:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self._condition.wait(deadline - time.monotonic())
            return 200, {"ok": True, "result": list(self.updates)}

    def _reject(self, method: str, params: dict, code: int, description: str, parameters: dict | None = None):
        self.rejected.append((method, params, description))
        answer = {"ok": False, "error_code": code, "description": description}
        if parameters:
            answer["parameters"] = parameters
        return code, answer

    def _api_sendMessage(self, params):  # noqa: N802
        with self._condition:
            self._sending += 1
            self.max_in_flight = max(self.max_in_flight, self._sending)
        try:
            time.sleep(self.send_latency)
            with self._condition:
                while int(params.get("chat_id") or 0) in self.held:
                    self._condition.wait(0.1)
            return self._send_message(params)
        finally:
            with self._condition:
                self._sending -= 1

    def _chat_refusal(self, method: str, params: dict):
        """The answer when the chat cannot take a message now (failing, flood, blocked, migrated), else None."""
        chat_id = int(params["chat_id"])
        if self.failing.get(chat_id):
            self.failing[chat_id] -= 1
            return self._reject(method, params, 502, "Bad Gateway")
        if self.flood.get(chat_id):
            self.flood[chat_id] -= 1
            return self._reject(method, params, 429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if chat_id in self.blocked:
            return self._reject(method, params, 403, "Forbidden: bot was blocked by the user")
        if chat_id in self.migrations:
            return self._reject(method, params, 400, "Bad Request: group chat was upgraded to a supergroup chat",
                                {"migrate_to_chat_id": self.migrations[chat_id]})
        return None

    def _send_message(self, params):
        chat_id = int(params["chat_id"])
        refusal = self._chat_refusal("sendMessage", params)
        if refusal:
            return refusal
        text = params.get("text", "")
        visible = text
        if params.get("parse_mode") == "HTML":
            error, visible = check_html(text)
            if error:
                return self._reject("sendMessage", params, 400, f"Bad Request: can't parse entities: {error}")
        if not visible.strip():
            return self._reject("sendMessage", params, 400, "Bad Request: message text is empty")
        if utf16_length(visible) > 4096 or len(text) > 4096 * 2:  # Telegram counts UTF-16 code units
            return self._reject("sendMessage", params, 400, "Bad Request: message is too long")
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "text": visible,
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}
        if params.get("message_thread_id"):
            message["message_thread_id"] = int(params["message_thread_id"])
        with self._condition:
            self.contents[(chat_id, message["message_id"])] = (text, params.get("reply_markup"))
            self.sent.append({"chat_id": chat_id, "thread_id": params.get("message_thread_id"), "html": text, "text": visible,
                              "reply_markup": params.get("reply_markup"), "message_id": message["message_id"]})
            self._condition.notify_all()
        return 200, {"ok": True, "result": message}

    def _api_sendPhoto(self, params):  # noqa: N802
        chat_id = int(params["chat_id"])
        refusal = self._chat_refusal("sendPhoto", params)
        if refusal:
            return refusal
        photo, caption = params.get("photo"), params.get("caption") or ""
        if isinstance(photo, bytes):
            if not photo.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
                return self._reject("sendPhoto", params, 400, "Bad Request: IMAGE_PROCESS_FAILED")
        elif not isinstance(photo, str) or photo in self.refused_urls or not (
            photo in self.file_ids or photo.startswith(("http://", "https://"))
        ):
            return self._reject("sendPhoto", params, 400, "Bad Request: wrong file identifier/HTTP URL specified")
        if self.refuse_photos:
            reason = self.refuse_photos if isinstance(self.refuse_photos, str) else "Bad Request: PHOTO_INVALID_DIMENSIONS"
            return self._reject("sendPhoto", params, 400, reason)
        visible = caption
        if caption and params.get("parse_mode") == "HTML":
            error, visible = check_html(caption)
            if error:
                return self._reject("sendPhoto", params, 400, f"Bad Request: can't parse entities: {error}")
        if utf16_length(visible) > 1024:
            return self._reject("sendPhoto", params, 400, "Bad Request: message caption is too long")
        with self._condition:
            file_id = f"photo-{len(self.file_ids) + 1}"
            self.file_ids[file_id] = photo if isinstance(photo, bytes) else self.file_ids.get(photo, b"")
        width, height = _png_size(self.file_ids[file_id])
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "caption": visible,
                   "photo": [{"file_id": file_id, "file_unique_id": file_id, "width": width, "height": height}],
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}
        with self._condition:
            self.sent.append({"chat_id": chat_id, "thread_id": params.get("message_thread_id"), "html": caption, "text": visible,
                              "reply_markup": params.get("reply_markup"), "message_id": message["message_id"], "photo": photo})
            self._condition.notify_all()
        return 200, {"ok": True, "result": message}

    def _api_editMessageText(self, params):  # noqa: N802
        error, visible = check_html(params.get("text", "")) if params.get("parse_mode") == "HTML" else (None, params.get("text", ""))
        if error:
            return self._reject("editMessageText", params, 400, f"Bad Request: can't parse entities: {error}")
        key, content = (int(params["chat_id"]), int(params["message_id"])), (params.get("text", ""), params.get("reply_markup"))
        if self.contents.get(key) == content:
            return self._reject("editMessageText", params, 400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current content and reply markup of the message")
        with self._condition:
            self.contents[key] = content
            self.edits.append({"chat_id": int(params["chat_id"]), "text": visible, "reply_markup": params.get("reply_markup")})
            self._condition.notify_all()
        return 200, {"ok": True, "result": {"message_id": int(params["message_id"]), "date": int(time.time()), "text": visible,
                                            "chat": {"id": int(params["chat_id"]), "type": "private"}}}

    async def wait_for_edit(self, count: int = 1, timeout: float = 15.0) -> dict:
        """Wait until ``count`` edits have been made; the latest one."""
        deadline = time.monotonic() + timeout
        while len(self.edits) < count:
            if time.monotonic() > deadline:
                raise AssertionError("no message was edited")
            await asyncio.sleep(0.02)
        return self.edits[-1]


def _multipart(content_type: str, body: bytes) -> dict:
    """The fields of a multipart/form-data body: files as bytes, the rest as text."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    params: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        params[name] = data if part.get_filename() else data.decode("utf-8")
    return params


def _png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height from its header; (0, 0) for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0
