"""The APScheduler ``AsyncIOScheduler`` owned by the application: digests and feed polling.

The database is the source of truth; jobs are derived from it at start (``plan_all``) and whenever a chat
changes its mode or time zone (``plan_chat``). Each digest job is a one-shot date job that plans the next one
after it ran, so DST changes are handled by computing each fire time afresh in the chat's zone. With several
instances the change may have been made on another one: every ``REPLAN_SECONDS`` the leader compares each
chat's settings with those its job was planned from (``ensure_planned``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.core.alerts.schedule import missed_digest, next_digest_at
from bot.core.clock import Clock
from bot.core.models import Chat, Mode
from bot.services.delivery import DeliveryService
from bot.services.feeds import FeedService
from bot.storage.store import Storage

log = logging.getLogger(__name__)

FEED_CHECK_SECONDS = 30  # how often due feeds are looked for; each feed keeps its own interval
REPLAN_SECONDS = 30  # a digest setting changed on another instance (or a lost job) is planned within this
STOP_GRACE_SECONDS = 10.0


_PlanKey = tuple[Mode, str, str]


def _plan_key(chat: Chat) -> _PlanKey:
    return chat.mode, chat.digest_time, chat.timezone


def _job_id(chat_id: int) -> str:
    return f"digest-{chat_id}"


class NewsScheduler:
    def __init__(
        self,
        storage: Storage,
        delivery: DeliveryService,
        clock: Clock,
        feeds: FeedService | None = None,
        *,
        run_jobs: bool,
    ) -> None:
        """``run_jobs=False`` plans jobs without firing them: for a test clock, whose time APScheduler's
        wall-clock timing would get wrong (the tests call the jobs themselves). Implements the services'
        ``DigestPlanner`` protocol."""
        self._storage = storage
        self._delivery = delivery
        self._clock = clock
        self._feeds = feeds
        self._run_jobs = run_jobs
        # No misfire limit: a digest that was late (the process was suspended) is sent late, never skipped.
        self._scheduler = AsyncIOScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "misfire_grace_time": None}
        )
        self._running: set[asyncio.Task[object]] = set()
        self._planned_from: dict[int, _PlanKey] = {}  # chat id → the settings its digest job was planned from

    async def start(self) -> None:
        self._scheduler.start(paused=not self._run_jobs)
        if self._feeds is not None:
            self._scheduler.add_job(
                self._tracked(self._poll_feeds),
                "interval",
                seconds=FEED_CHECK_SECONDS,
                id="feeds",
                replace_existing=True,
                next_run_time=self._clock.now() + timedelta(seconds=1),
            )
        self._scheduler.add_job(
            self._tracked(self.ensure_planned), "interval", seconds=REPLAN_SECONDS, id="replan", replace_existing=True
        )  # replace: a scheduler started again (this instance leads again) still has the job
        await self.plan_all()

    async def stop(self) -> None:
        """Stop firing jobs, then let running digests and feed polls finish (within a grace time) so that
        what they sent is marked sent before the database closes."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()

    def _tracked(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Wrap a job so that :meth:`stop` can wait for it."""

        async def run(*args: object) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job(*args)
            finally:
                if task is not None:
                    self._running.discard(task)

        return run

    async def ensure_planned(self) -> None:
        """Plan what the database says and the jobs do not: a chat whose mode, digest time or time zone was
        changed on another instance, a digest chat without a job, a job of a chat that left."""
        active = await self._storage.chats.active_chats()
        for chat in active:
            planned_from = self._planned_from.get(chat.id)
            if chat.mode is Mode.INSTANT and planned_from is None:
                continue
            if planned_from != _plan_key(chat) or self._scheduler.get_job(_job_id(chat.id)) is None:
                log.info("chat %s: digest settings changed or not planned; planning it", chat.id)
                await self.plan_chat(chat)
        for chat_id in self._planned_from.keys() - {chat.id for chat in active}:
            self._unplan(chat_id)

    async def plan_all(self) -> None:
        """Rebuild every digest job from SQLite; a digest that came due while the bot was down runs now."""
        now = self._clock.now()
        for chat in await self._storage.chats.active_chats():
            if chat.mode is Mode.INSTANT:
                continue
            if missed_digest(chat.mode, chat.digest_time, chat.timezone, chat.last_digest_at, now) and (
                await self._storage.outbox.count_waiting(chat.id)
            ):
                log.info("chat %s: digest came due while stopped; sending it now", chat.id)
                await self.run_digest(chat.id)
            else:
                await self.plan_chat(chat)

    async def plan_chat(self, chat: Chat) -> datetime | None:
        """(Re)plan the next digest of one chat; returns its UTC time (None in instant mode)."""
        self._unplan(chat.id)
        if chat.mode is Mode.INSTANT or not chat.active:
            return None
        when = next_digest_at(chat.mode, chat.digest_time, chat.timezone, self._clock.now())
        if when is None:
            return None
        self._scheduler.add_job(
            self._tracked(self.run_digest),
            DateTrigger(run_date=when),
            args=(chat.id,),
            id=_job_id(chat.id),
            replace_existing=True,
        )
        self._planned_from[chat.id] = _plan_key(chat)
        return when

    def _unplan(self, chat_id: int) -> None:
        self._planned_from.pop(chat_id, None)
        if self._scheduler.get_job(_job_id(chat_id)):
            self._scheduler.remove_job(_job_id(chat_id))

    def planned(self, chat_id: int) -> datetime | None:
        job = self._scheduler.get_job(_job_id(chat_id))
        if job is None:
            return None
        # A job planned while the scheduler is not running (an instance that does not lead) has no
        # next_run_time yet: its trigger knows the time.
        when = getattr(job, "next_run_time", None)
        return when if when is not None else job.trigger.get_next_fire_time(None, self._clock.now())

    async def run_digest(self, chat_id: int) -> None:
        chat = await self._storage.chats.get(chat_id)
        if chat is None or not chat.active or not self._delivery.serves(chat.platform):
            return  # a platform not connected (yet): the digest stays due
        try:
            result = await self._delivery.deliver_chat(chat, as_digest=True)
            log.info("chat %s: digest sent (%d article(s), %d left)", chat_id, result.sent_items, result.left_over)
        finally:
            # Even a failed digest moves on: the failed rows are retried by the outbox worker.
            await self._storage.chats.set_last_digest(chat.id, self._clock.now())
            refreshed = await self._storage.chats.get(chat_id)
            if refreshed is not None:
                await self.plan_chat(refreshed)

    async def _poll_feeds(self) -> None:
        if self._feeds is None:
            return
        try:
            await self._feeds.poll_due()
        except Exception:  # a broken feed must never stop the scheduler
            log.exception("feed polling pass failed")
