"""When an expand becomes effective: T+n (midnight Asia/Shanghai n days on) or a duration."""

from __future__ import annotations

from datetime import datetime, timedelta

from userpkg.core.clock import SHANGHAI
from userpkg.core.settings import SyncDelay


def effective_time(submit_time: int, delay: SyncDelay) -> int:
    if delay.days is None:
        return submit_time + delay.seconds
    local = datetime.fromtimestamp(submit_time, SHANGHAI)
    midnight = datetime(local.year, local.month, local.day, tzinfo=SHANGHAI)
    return int((midnight + timedelta(days=delay.days)).timestamp())
