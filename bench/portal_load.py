"""Loopback load on the customer portal: requests/s and latency of the login page and of
the link-open path (fresh links used up on open, and used links that redirect).

Starts `portal-console serve` on a free loopback port over a fresh SQLite file, mints the
links through the service layer, and drives the server with httpx at a fixed concurrency.
Every phase is bounded in count and in time. Run: .venv/bin/python bench/portal_load.py
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import db  # noqa: E402
from store.customers import add_customer  # noqa: E402
from store.settings import update_setting  # noqa: E402


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, folder: Path, port: int) -> subprocess.Popen:
    """`portal-console serve` on the port, once it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_DATABASE_URL=url, PORTAL_MAILDIR=str(folder / "maildir"),
               PORTAL_SECRET_KEY="bench-secret-key")
    log = (folder / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)],
                               env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the portal exited: {(folder / 'server.log').read_text()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/portal.css", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the portal did not answer within 30 s")


def mint_links(count: int) -> list[str]:
    """``count`` fresh setup links: new customers whose Credential Create email is queued."""
    with db.database.atomic():
        for i in range(count):
            add_customer(name=f"Load Customer {i}", primary_email=f"load{i}@example.com", actor="bench")
    rows = db.database.execute_sql("SELECT link_url FROM outbox_email ORDER BY id").fetchall()
    return ["/" + row[0].split("/", 3)[3] for row in rows]


async def load(base: str, paths: list[str], *, concurrency: int, seconds: float,
               expect: int, location: str | None = None) -> tuple[int, float, list[float]]:
    """GET each path once (in order) with ``concurrency`` workers until done or ``seconds`` pass.
    Returns (requests done, elapsed seconds, latencies)."""
    queue = iter(paths)
    latencies: list[float] = []
    unexpected = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal unexpected
            for path in queue:
                if time.perf_counter() > deadline:
                    return
                sent = time.perf_counter()
                answer = await client.get(path, follow_redirects=False)
                latencies.append(time.perf_counter() - sent)
                client.cookies.clear()  # every request as a new visitor
                if answer.status_code != expect or answer.headers.get("location") != location:
                    unexpected += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if unexpected:
        raise SystemExit(f"{unexpected} answers were not {expect} {location or ''}")
    return len(latencies), elapsed, latencies


def report(name: str, done: int, elapsed: float, latencies: list[float]) -> None:
    """Print one phase's figures on one line."""
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:34} {done:6d} requests in {elapsed:5.1f} s  {done / elapsed:7.1f} req/s  "
          f"p50 {cuts[49] * 1000:6.1f} ms  p95 {cuts[94] * 1000:6.1f} ms")


def main() -> int:
    """Run the three bounded phases and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase (default 2000)")
    parser.add_argument("--links", type=int, default=1000, help="fresh links to open (default 1000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per phase (default 20)")
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portal-load-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'portal.db'}"
        port = free_port()
        db.init(url)
        update_setting("portal_url", f"http://127.0.0.1:{port}", actor="bench")
        update_setting("credential_create_email", "on", actor="bench")
        links = mint_links(args.links)
        db.close()
        server = start_server(url, folder, port)
        try:
            base = f"http://127.0.0.1:{port}"
            print(f"portal load on {platform.python_implementation()} {platform.python_version()}, "
                  f"{os.cpu_count()} cores, SQLite, concurrency {args.concurrency}, "
                  f"bounds {args.requests} requests / {args.seconds:.0f} s per phase")
            report("GET / (login page)", *asyncio.run(
                load(base, ["/"] * args.requests, concurrency=args.concurrency, seconds=args.seconds, expect=200)))
            report("GET /setup/<fresh token> (use up)", *asyncio.run(
                load(base, links, concurrency=args.concurrency, seconds=args.seconds, expect=303,
                     location="/setup")))
            used = (links * (args.requests // max(1, len(links)) + 1))[:args.requests]
            report("GET /setup/<used token> (redirect)", *asyncio.run(
                load(base, used, concurrency=args.concurrency, seconds=args.seconds, expect=303,
                     location="/?note=link")))
        finally:
            server.terminate()
            server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
