"""A local Telegram Bot API server for tests: real HTTP on 127.0.0.1 that python-telegram-bot talks to through
``base_url``, with a Python API to act as users, read what the bot sent and inject faults.

It runs on the caller's event loop (``async with BotApiServer() as server``), so tests drive users and the
bot in one loop and wait on the server's record instead of sleeping. The pieces: :mod:`.world` (users,
chats, messages and the test API), :mod:`.faults` (injected errors, flood windows, rate limit),
:mod:`.methods` (the Bot API methods), :mod:`.plumbing` (HTTP).
"""

from __future__ import annotations

from tests.telegram_server.faults import SendGate
from tests.telegram_server.methods import BotApiMethods
from tests.telegram_server.models import Fault, FloodWindow, SendAttempt, TgChat
from tests.telegram_server.plumbing import HttpFront
from tests.telegram_server.webhook import WebhookPusher
from tests.telegram_server.world import World


class BotApiServer(World):
    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "newsalert_test_bot",
        send_rate_limit: float | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        """``send_rate_limit``: sends per second over a sliding one-second window; more get a 429."""
        super().__init__(token, bot_username)
        self._host = host
        self._port = 0
        self._gate = SendGate(self, send_rate_limit)
        self._methods = BotApiMethods(self)
        self.webhook = WebhookPusher(self, self._methods.table)  # setWebhook: updates are pushed, not polled
        self._http = HttpFront(self, self._gate, self._methods)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._port = await self._http.start(self._host)
        await self.webhook.start()

    async def stop(self) -> None:
        self.closing = True
        self.notify()  # long polls return at once
        await self.webhook.stop()
        await self._http.stop()

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_base_url(self) -> str:
        return f"http://{self._host}:{self._port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://{self._host}:{self._port}/file/bot"

    # ---------------------------------------------------------------- faults and the send record

    @property
    def send_rate_limit(self) -> float | None:
        return self._gate.send_rate_limit

    @send_rate_limit.setter
    def send_rate_limit(self, value: float | None) -> None:
        self._gate.send_rate_limit = value

    @property
    def attempts(self) -> list[SendAttempt]:
        return self._gate.attempts

    @property
    def flood_windows(self) -> list[FloodWindow]:
        return self._gate.flood_windows

    @property
    def conflicts(self) -> int:
        """getUpdates calls ended with 409 because a newer one arrived."""
        return self._methods.conflicts

    def inject(self, fault: Fault, *, count: int = 1, chat: TgChat | int | None = None) -> None:
        """The next ``count`` sends (to ``chat``, or to any chat) get ``fault`` instead of being performed."""
        self._gate.inject(fault, count=count, chat=chat)

    def early_sends(self) -> list[SendAttempt]:
        """Sends to a chat that arrived while that chat's flood window was still open."""
        return self._gate.early_sends()
