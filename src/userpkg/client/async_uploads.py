"""`AsyncUploader`: `Uploader` for asyncio code, with the same resume behaviour.

Every decision (file names, the state file, which parts are left, what an expired upload
means) is `UploadPlan`'s; this module only makes the calls with `AsyncBrandClient`, parts in
parallel up to a bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from userpkg.client.client import AsyncBrandClient
from userpkg.client.errors import ApiError
from userpkg.client.uploads import (
    MAX_FILE_BYTES,
    POLL_FIRST,
    POLL_GROWTH,
    POLL_MAX,
    Progress,
    PushResult,
    UploadPlan,
    lint_file,
    piece_result,
    split_points,
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
        piece: int | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload one file (or a byte range of it) and merge it; returns the upload_id."""
        plan = await asyncio.to_thread(
            UploadPlan.make, self.client.credentials, self.states, path, offset, length, piece
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

    async def push(
        self,
        package_id: str,
        path: Path,
        data_type: DataType,
        package_type: PackageType,
        description: str,
        *,
        wait: bool = False,
        max_bytes: int = MAX_FILE_BYTES,
        progress: Progress | None = None,
        on_piece: Callable[[dict[str, Any]], None] | None = None,
    ) -> PushResult:
        """Lint, split at line boundaries into uploads of at most `max_bytes`, expand each."""
        counts = await asyncio.to_thread(lint_file, path, data_type)
        pieces = await asyncio.to_thread(split_points, path, max_bytes)
        results: list[dict[str, Any]] = []
        for number, (offset, length) in enumerate(pieces, 1):
            upload_id = await self.upload_file(
                path,
                data_type,
                package_type,
                description,
                offset=offset,
                length=length,
                piece=number if len(pieces) > 1 else None,
                progress=progress,
            )
            answer = await self.client.expand(package_id, upload_id)
            result = piece_result(upload_id, length, answer)
            results.append(result)
            if on_piece is not None:
                on_piece(result)
        if wait:
            for result in results:
                final = await self.wait(package_id, str(result["upload_id"]))
                result.update(state=final.state, return_message=final.return_message)
        return PushResult(counts, results)

    async def wait(
        self,
        package_id: str,
        upload_id: str,
        *,
        timeout: float | None = None,
        on_poll: Callable[[ExpandResponse], None] | None = None,
    ) -> ExpandResponse:
        """Poll the expand until it is final, backing off as `Uploader.wait` does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = POLL_FIRST
        while True:
            answer = await self.client.expand(package_id, upload_id)
            if on_poll is not None:
                on_poll(answer)
            if answer.is_final or (deadline is not None and time.monotonic() >= deadline):
                return answer
            await asyncio.sleep(delay)
            delay = min(delay * POLL_GROWTH, POLL_MAX)
