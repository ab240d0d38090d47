"""The Telegram side: Application factory, handlers, texts, rendering, delivery, pushes."""
