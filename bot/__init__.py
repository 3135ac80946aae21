"""newsalert: a news-alert chat bot for Telegram and Matrix."""

__version__ = "0.1.0"
