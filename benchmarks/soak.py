"""Soak: concurrent signed flows against a service this script starts, for a set time.

Each flow is what a brand does: init an upload, send its parts, merge, expand into a package
of its own, poll until FINISHED. Every twentieth file spans two parts. At the end every
package's member count and task counts are checked against what its file held, exactly.
Prints requests, errors by status, p50/p99 latency per request, and each service process's
RSS sampled over the run (every `--sample-seconds`) with its slope over the second half, once
the replay window (nonces kept 600 s) is full: a rise then a plateau is flat, a steady climb is
a leak, so judge memory from runs of 1200 s or more. Loopback only; not in CI.

Run: `.venv/bin/python benchmarks/soak.py --seconds 60 [--flows 8]`
     `.venv/bin/python benchmarks/soak.py --seconds 60 --postgres postgresql://postgres@127.0.0.1/postgres`
(PostgreSQL: a fresh database, two API processes and two workers; the database is dropped.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.processes import USERPKG, ServiceProcess, free_port

from userpkg.client import BrandClient, Credentials
from userpkg.client.errors import ApiError
from userpkg.client.operator import OperatorClient
from userpkg.core.settings import Settings
from userpkg.protocol import DataType, PackageType, ProcessState
from userpkg.protocol.models import UserPackageFileInfo

MiB = 1 << 20
PART_SIZE = 4 * MiB
USERS = 3000
MAX_FLOWS = 100_000
FINAL_WAIT_SECONDS = 120


class Recorder(httpx.BaseTransport):
    """Under the SDK: every HTTP exchange's status and latency, retries included."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.statuses: Counter[int | str] = Counter()
        self.latencies: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self._inner.handle_request(request)
            response.read()
        except httpx.TransportError as exc:
            with self._lock:
                self.statuses[type(exc).__name__] += 1
            raise
        with self._lock:
            self.statuses[response.status_code] += 1
            self.latencies.append(time.perf_counter() - started)
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass
class Flow:
    package_id: str
    upload_id: str
    distinct: int
    lines: int
    unrecognised: int
    state: str = ProcessState.PROCESSING.value


def random_openid() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits + "_-", k=28))


def flow_file(openids: list[str], big: bool) -> tuple[bytes, int, int, int]:
    """(file, distinct users, lines, unrecognised lines): known users, repeats, strangers."""
    chosen = random.sample(openids, random.randint(20, 200))
    repeats = random.randint(1, 3)
    strangers = [random_openid() for _ in range(random.randint(0, 5))]
    lines = chosen * repeats + strangers
    if big:
        lines += chosen * (PART_SIZE // (29 * len(chosen)) + 1)
    random.shuffle(lines)
    return ("\n".join(lines) + "\n").encode(), len(chosen), len(lines), len(strangers)


def run_flow(
    sdk: BrandClient, operator: OperatorClient, brand_id: str, openids: list[str], number: int
) -> Flow:
    package = operator.request(
        "POST",
        f"brands/{brand_id}/user-packages",
        {"name": f"soak {number}", "package_type": PackageType.TARGETED_EXPOSURE.value},
    )["user_package_id"]
    data, distinct, lines, strangers = flow_file(openids, big=number % 20 == 19)
    info = UserPackageFileInfo(
        filename=f"soak_{number}_{secrets.token_hex(4)}.csv",
        digest=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        package_type=PackageType.TARGETED_EXPOSURE,
        data_type=DataType.OPENID,
        description="soak benchmark flow file",
    )
    opened = sdk.init_upload(info)
    for index in range(opened.part_count):
        part = data[index * opened.part_size : (index + 1) * opened.part_size]
        sdk.upload_part(
            opened.upload_id,
            index + 1,
            part,
            hashlib.sha256(part).hexdigest(),
            f"part{index + 1}.csv",
        )
    sdk.merge(opened.upload_id)
    flow = Flow(package, opened.upload_id, distinct, lines, strangers)
    while True:
        answer = sdk.expand(package, opened.upload_id)
        if answer.is_final:
            flow.state = answer.state
            return flow
        time.sleep(0.25)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """Each service process's RSS every `interval` seconds, to tell a plateau from a climb."""

    def __init__(self, pids: dict[str, int], interval: float) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.started = time.monotonic()
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._stopping = threading.Event()

    def sample(self) -> None:
        elapsed = time.monotonic() - self.started
        self.samples.append((elapsed, {p: rss_kib(pid) for p, pid in self.pids.items()}))

    def run(self) -> None:
        self.sample()
        while not self._stopping.wait(self.interval):
            self.sample()

    def finish(self) -> None:
        self._stopping.set()
        self.join()
        self.sample()

    def slope_mib_per_10_min(self, process: str, after: float) -> float:
        """Least-squares slope of RSS over the samples taken after `after` seconds."""
        points = [(t, kib[process] / 1024) for t, kib in self.samples if t >= after]
        if len(points) < 3:
            return float("nan")
        mean_t = statistics.fmean(t for t, _ in points)
        mean_m = statistics.fmean(m for _, m in points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        return sum((t - mean_t) * (m - mean_m) for t, m in points) / spread * 600


REPLAY_WINDOW = Settings().nonce_ttl_seconds
"""Each API process remembers every nonce it accepted for this long (~250 bytes each), so RSS
rightly climbs for the first REPLAY_WINDOW seconds; memory is judged only after that."""
FLAT_MIB_PER_10_MIN = 3.0


def print_rss(sampler: RssSampler, seconds: float) -> bool:
    """The samples as a table and each process's slope once the replay window is full and the
    run half over; False if one still climbs."""
    processes = list(sampler.pids)
    print("  RSS over time (MB)  " + " ".join(f"{p:>8}" for p in processes))
    for elapsed, kib in sampler.samples:
        row = " ".join(f"{kib[p] / 1024:8.1f}" for p in processes)
        print(f"    {elapsed:6.0f} s          {row}")
    judged_from = max(seconds / 2, REPLAY_WINDOW + 60)
    flat = True
    for process in processes:
        slope = sampler.slope_mib_per_10_min(process, judged_from)
        if seconds < 2 * REPLAY_WINDOW or slope != slope:
            verdict = f"run ≥ {2 * REPLAY_WINDOW} s to judge (replay window still filling)"
        elif slope <= FLAT_MIB_PER_10_MIN:
            verdict = "flat"
        else:
            verdict = "CLIMBING"
            flat = False
        print(
            f"  RSS {process:<8} slope from {judged_from:.0f} s: {slope:+.1f} MB / 10 min: {verdict}"
        )
    return flat


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    name = f"userpkg_soak_{secrets.token_hex(4)}"
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


COMMON = ["--sync-delay", "0s", "--rate-limit", "100000", "--rate-burst", "100000"]


@contextmanager
def service(tmp: Path, postgres: str | None) -> Iterator[tuple[list[str], dict[str, int], str]]:
    """(API base URLs, {process name: pid}, sandbox manifest path) of a running service."""
    token = secrets.token_urlsafe(16)
    env = {"USERPKG_ADMIN_TOKEN": token}
    sandbox = ["--sandbox", "--sandbox-users", str(USERS)]
    quiet = ["--log-level", "WARNING"]
    if postgres is None:
        api = ServiceProcess(
            ["serve", "--data", str(tmp / "data"), *sandbox, *COMMON, *quiet], tmp / "api.log", env
        )
        try:
            api.wait_healthy()
            yield [api.base_url], {"serve": api.proc.pid}, str(tmp / "data" / "sandbox")
        finally:
            api.stop()
        return
    with fresh_database(postgres) as url:
        apis: list[ServiceProcess] = []
        workers: list[ServiceProcess] = []
        try:
            for i in range(2):
                extra = sandbox if i == 0 else []
                apis.append(
                    ServiceProcess(
                        [
                            "serve",
                            "--db",
                            url,
                            "--data",
                            str(tmp / f"api{i}"),
                            "--no-processing",
                            *extra,
                            *COMMON,
                            *quiet,
                        ],
                        tmp / f"api{i}.log",
                        env,
                    )
                )
                apis[-1].wait_healthy()
            for i in range(2):
                workers.append(
                    WorkerProcess(
                        ["worker", "--db", url, "--data", str(tmp / f"w{i}")], tmp / f"w{i}.log"
                    )
                )
            pids = {f"api{i}": a.proc.pid for i, a in enumerate(apis)}
            pids.update({f"worker{i}": w.proc.pid for i, w in enumerate(workers)})
            yield [a.base_url for a in apis], pids, str(tmp / "api0" / "sandbox")
        finally:
            for process in [*workers, *apis]:
                process.stop()


class WorkerProcess(ServiceProcess):
    """`userpkg worker`: no port, no health check."""

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = ""
        self.proc = subprocess.Popen(
            [*USERPKG, *self.args, "--log-level", "WARNING"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
        )


def soak(seconds: float, concurrency: int, postgres: str | None, sample_every: float) -> bool:
    with tempfile.TemporaryDirectory() as name, service(Path(name), postgres) as (urls, pids, box):
        manifest = json.loads((Path(box) / "sandbox.json").read_text())
        operator = OperatorClient(urls[0], manifest["admin_token"])
        appid = manifest["bound_appids"][0]
        openids: list[str] = []
        while len(openids) < USERS:
            page = operator.request("GET", "users", params={"offset": len(openids), "limit": 1000})
            openids += [u["openids"][appid] for u in page["data"]]
        recorder = Recorder()
        clients = [
            BrandClient(
                Credentials.resolve(Path(box) / "credentials.toml", base_url=url),
                transport=recorder,
            )
            for url in urls
        ]
        flows: list[Flow] = []
        failures: Counter[str] = Counter()
        counter = iter(range(MAX_FLOWS))
        lock = threading.Lock()
        warm_until = time.monotonic() + min(10.0, seconds / 6)
        deadline = time.monotonic() + seconds
        rss_start: dict[str, int] = {}

        def loop(index: int) -> None:
            sdk = clients[index % len(clients)]
            while time.monotonic() < deadline:
                with lock:
                    number = next(counter, None)
                    if number is None:
                        return
                    if not rss_start and time.monotonic() > warm_until:
                        rss_start.update({p: rss_kib(pid) for p, pid in pids.items()})
                try:
                    flow = run_flow(sdk, operator, manifest["brand_id"], openids, number)
                except ApiError as exc:
                    with lock:
                        failures[f"{exc.status} {exc.code}"] += 1
                    continue
                except Exception as exc:
                    with lock:
                        failures[type(exc).__name__] += 1
                    continue
                with lock:
                    flows.append(flow)

        started = time.monotonic()
        sampler = RssSampler(pids, sample_every)
        sampler.start()
        threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + FINAL_WAIT_SECONDS)
        elapsed = time.monotonic() - started
        sampler.finish()
        rss_end = sampler.samples[-1][1]
        for client in clients:
            client.close()

        wrong: list[str] = []
        for flow in flows:
            package = operator.user_package(flow.package_id)
            task = operator.tasks(flow.package_id)[0]
            stats = task["stats"]
            expected = {
                "lines": flow.lines,
                "unrecognised": flow.unrecognised,
                "matched": flow.lines - flow.unrecognised,
                "duplicates": flow.lines - flow.unrecognised - flow.distinct,
                "added": flow.distinct,
                "already_members": 0,
            }
            got = {k: stats[k] for k in expected}
            if (
                flow.state != ProcessState.FINISHED.value
                or package["member_count"] != flow.distinct
                or got != expected
            ):
                wrong.append(f"{flow.package_id}: {flow.state} {package['member_count']} {got}")
        operator.close()

        latencies = sorted(recorder.latencies)
        requests = sum(recorder.statuses.values())
        errors = {s: n for s, n in recorder.statuses.items() if s != 200}
        label = "PostgreSQL, 2 API processes + 2 workers" if postgres else "SQLite, 1 process"
        print(f"soak on {label}: {elapsed:.0f} s, {concurrency} concurrent flows")
        print(f"  flows finished      {len(flows)}  (failed to run: {dict(failures) or 0})")
        print(f"  requests            {requests}  ({requests / elapsed:.0f}/s)")
        print(f"  errors by status    {errors or 'none'}")
        print(
            f"  latency p50 / p99   {statistics.median(latencies) * 1000:.1f} / "
            f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
        )
        for process, pid in pids.items():
            before, after = rss_start.get(process, 0), rss_end[process]
            print(
                f"  RSS {process:<8}        {before / 1024:6.1f} → {after / 1024:6.1f} MB "
                f"({(after - before) / 1024:+.1f} MB after warm-up, pid {pid})"
            )
        flat = print_rss(sampler, seconds)
        print(f"  exact counts        {len(flows) - len(wrong)} of {len(flows)} packages exact")
        for line in wrong[:10]:
            print(f"    WRONG {line}")
        server_errors = sum(n for s, n in errors.items() if isinstance(s, int) and s >= 500)
        return not wrong and not failures and not server_errors and flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to send flows")
    parser.add_argument("--flows", type=int, default=8, help="flows running at once")
    parser.add_argument("--postgres", help="PostgreSQL server URL: two APIs, two workers")
    parser.add_argument(
        "--sample-seconds",
        type=float,
        help="RSS sample interval (default: a twentieth of the run, ≤ 60 s)",
    )
    args = parser.parse_args()
    seconds = min(args.seconds, 3600)
    every = args.sample_seconds or max(1.0, min(60.0, seconds / 20))
    ok = soak(seconds, max(1, min(args.flows, 64)), args.postgres, every)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
