"""Where each provider's model list and the protocols its server turned out not to speak are
kept, and read back for a new pipeline: the state folder's database, or, joined to a team
(``share``), the team's, so a gateway starting knows what any gateway of the team learnt last."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from gateway.pipeline.gateway import Gateway
from gateway.routing.model_sync import ListedModels
from gateway.routing.spoken import Unspoken
from gateway.store import model_lists
from gateway.store.seam import ModelListStore
from gateway.store.writer import Writer

log = logging.getLogger("gateway")


class KeptModels:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._team: ModelListStore | None = None
        self._writing: set[asyncio.Task[None]] = set()

    def share(self, team: ModelListStore | None) -> None:
        """From now on (None: no longer) lists are kept in, and read from, the team's database."""
        self._team = team

    def listed(self, models: ListedModels) -> None:
        """Keep a list just taken (called on the event loop, by the model sync)."""
        if self._team is None:
            self._writer.append(model_lists.save, models.row())
        else:
            self._write(self._team.save([models.row()]))

    def learned(self, unspoken: Unspoken) -> None:
        """Keep a protocol a provider's server turned out not to speak (called on the event loop)."""
        if self._team is None:
            self._writer.append(model_lists.save_unspoken, unspoken.row())
        else:
            self._write(self._team.save_unspoken([unspoken.row()]))

    def _write(self, saving: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(saving)
        self._writing.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("a model list was not kept in the team's database: %s", exc)

    async def written(self) -> None:
        """Once what is on its way to the team's database is there (or failed, said in the log)."""
        await asyncio.gather(*self._writing, return_exceptions=True)

    async def restore(self, gateway: Gateway, since: float) -> None:
        """Into a new pipeline: the lists and unspoken protocols learnt at or after ``since``
        (older ones are dropped for good), where still taken at each provider's address now. The
        team's database out of reach is said, not a failure: a new pipeline still carries what the
        running one holds, and a starting one asks the providers."""
        if (team := self._team) is not None:
            try:
                lists, unspoken = await team.load(since), await team.load_unspoken(since)
            except Exception as exc:  # the driver's own errors: a warm start only, so none
                log.warning("the model lists kept in the team's database were not read: %s", exc)
                return
        else:
            lists = await self._writer.call(lambda conn: model_lists.load(conn, since))
            unspoken = await self._writer.call(lambda conn: model_lists.load_unspoken(conn, since))
        gateway.sync.restore(ListedModels.from_row(row) for row in lists)
        gateway.spoken.restore(map(Unspoken.from_row, unspoken), gateway.providers)
