"""T+n effective times around midnight Asia/Shanghai, and the sync-delay syntax."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from userpkg.core.datasync import effective_time
from userpkg.core.settings import SyncDelay

SHANGHAI = timezone(timedelta(hours=8))


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp())


@pytest.mark.parametrize(
    ("submitted", "effective"),
    [
        ("2026-11-27T23:59:59", "2026-11-29T00:00:00"),
        ("2026-11-28T00:00:00", "2026-11-30T00:00:00"),
        ("2026-11-28T00:00:01", "2026-11-30T00:00:00"),
        ("2026-12-31T12:00:00", "2027-01-02T00:00:00"),
        ("2028-02-28T08:00:00", "2028-03-01T00:00:00"),
    ],
)
def test_t_plus_2_is_midnight_shanghai_two_days_on(submitted: str, effective: str) -> None:
    assert effective_time(at(submitted), SyncDelay.parse("T+2")) == at(effective)


def test_utc_midnight_is_not_shanghai_midnight() -> None:
    utc_evening = int(datetime(2026, 11, 27, 16, 30, tzinfo=UTC).timestamp())
    assert effective_time(utc_evening, SyncDelay(days=2)) == at("2026-11-30T00:00:00")


@pytest.mark.parametrize(
    ("text", "seconds"), [("0s", 0), ("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert effective_time(1_000, SyncDelay.parse(text)) == 1_000 + seconds


@pytest.mark.parametrize("bad", ["", "T+", "T+x", "2", "5 s", "-1s", "1w"])
def test_bad_delays_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="sync delay"):
        SyncDelay.parse(bad)
