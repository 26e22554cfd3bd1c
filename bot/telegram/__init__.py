"""The Telegram front end (python-telegram-bot). A thin adapter: updates in, dialogue turns out."""
