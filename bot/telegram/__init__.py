"""The Telegram side: Application factory, handlers, texts, rendering, delivery, pushes."""

import os

# python-telegram-bot 22 gives durations (RetryAfter.retry_after) as timedelta only when asked to;
# newsbot reads both forms, and asks for the one the next major version will use.
os.environ.setdefault("PTB_TIMEDELTA", "1")
