"""Stand-ins for what lies outside the bot, on 127.0.0.1 or on disk: the Telegram Bot API,
Telegraph, an OpenAI-compatible server, Open-Meteo's answers, a hostile web, tiny models."""
