"""`AsyncUploader`: `Uploader` for asyncio code, with the same resume behaviour.

Every decision (file names, the state file, which parts are left, what an expired upload
means) is `UploadPlan`'s; this module only makes the calls with `AsyncBrandClient`, parts in
parallel up to a bound. Pushing with a journal stays `Uploader.push`'s (a command-line flow).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from userpkg.client.client import AsyncBrandClient
from userpkg.client.errors import ApiError
from userpkg.client.uploads import (
    POLL_FIRST,
    POLL_GROWTH,
    POLL_MAX,
    Progress,
    UploadPlan,
    WaitTimeout,
    state_dir,
)
from userpkg.protocol import DataType, PackageType
from userpkg.protocol.models import ExpandResponse


class AsyncUploader:
    def __init__(
        self, client: AsyncBrandClient, *, parallel: int = 4, states: Path | None = None
    ) -> None:
        self.client = client
        self.parallel = parallel
        self.states = states or state_dir()

    async def upload_file(
        self,
        path: Path,
        data_type: DataType,
        package_type: PackageType,
        description: str,
        *,
        offset: int = 0,
        length: int | None = None,
        piece: str | None = None,
        tag: str | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload one file (or a byte range of it) and merge it; returns the upload_id."""
        plan = await asyncio.to_thread(
            UploadPlan.make, self.client.credentials, self.states, path, offset, length, piece, tag
        )
        if plan.state is None:
            info = plan.file_info(data_type, package_type, description)
            plan.opened(await self.client.init_upload(info))
        elif progress is not None:
            progress(plan.done_bytes())
        try:
            await self._send_parts(plan, progress)
            await self.client.merge(plan.upload_id)
        except ApiError as exc:
            plan.failed(exc)
            raise
        plan.finished()
        return plan.upload_id

    async def _send_parts(self, plan: UploadPlan, progress: Progress | None) -> None:
        bound = asyncio.Semaphore(self.parallel)

        async def send(number: int) -> None:
            async with bound:
                data, digest = plan.part(number)
                await self.client.upload_part(plan.upload_id, number, data, digest, plan.filename)
            sent = plan.acknowledged(number)
            if progress is not None:
                progress(sent)

        await asyncio.gather(*(send(number) for number in plan.todo()))

    async def wait(
        self,
        package_id: str,
        upload_id: str,
        *,
        timeout: float | None = None,
        on_poll: Callable[[ExpandResponse, float], None] | None = None,
    ) -> ExpandResponse:
        """Poll the expand until it is final, backing off as `Uploader.wait` does."""
        started = time.monotonic()
        delay = POLL_FIRST
        while True:
            answer = await self.client.expand(package_id, upload_id)
            waited = time.monotonic() - started
            if on_poll is not None:
                on_poll(answer, waited)
            if answer.is_final:
                return answer
            if timeout is not None and waited >= timeout:
                raise WaitTimeout(package_id, upload_id, answer, waited)
            await asyncio.sleep(delay if timeout is None else min(delay, timeout - waited))
            delay = min(delay * POLL_GROWTH, POLL_MAX)
