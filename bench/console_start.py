"""Console start-up: process start to the first frame of the search screen showing results,
on a database of N customers (default 1,000,000), against a bare Textual app with the same
widgets that runs no query; then the console's memory after 100 searches.

    .venv/bin/python bench/console_start.py [--customers N] [--runs N] [--size 80x24] [--searches 100]

Each run spawns a fresh Python process on a pseudo-terminal of the given size and
times it from just before the spawn until the process reports, over a pipe, that a
frame with results has been written to the terminal (a callback scheduled with
``call_after_refresh`` once the rows are in the table runs after that frame is drawn).
The apps take turns, after one unmeasured warm-up each, and the medians are printed.

- console: what `portal-console` does at start (its arguments, of which there are none, so
  the parser of every command is not built; the configuration; the database with its
  migration check), then PortalConsoleApp as shipped.
- bare: Input, Select, DataTable and Footer in a plain textual.App, its table filled with
  the same number of fixed rows; it opens no database and runs no query.
- bare+stack: the bare app, which first reads its settings with pydantic-settings and takes
  its rows from one peewee query: the floor that the stack's libraries set for any console.

Python's bytecode cache is on for every child (written by the warm-up), as on an agent's
machine, even where the environment sets PYTHONDONTWRITEBYTECODE.

Memory: one more console process types ``--searches`` searches (prefixes of names,
companies, references, addresses, misses; each waits for its results), then reports its
resident set size (VmRSS; VmHWM is the peak) from /proc/self/status, and how long those
searches took from the key to their first rows in the search screen's table (or to "no
match"), less the typing pause: the service layer's time plus the worker thread, the
connection and the message; a page that comes back empty to go on from doesn't count.

The database is made once with store.demo.seed and kept in the temp folder.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.5
KINDS = ("console", "bare", "bare+stack")
TARGET_RSS_MB = 150
# What the memory run types, one search after another.
SEARCHES = ("a", "ad", "ada", "ada l", "lovelace", "c0001", "c00012", "grace", "hopper", "acme", "globex",
            "hooli", "billing", "engines.example", "zz", "zzq", "ma", "mar", "mari", "tur", "turing",
            "kthompson", "ken@unix", "pied piper", "soylent", "s", "w", "wirth", "knuth", "do")
# A run that has not drawn its first frame by then is reported as a failure, not waited on.
RUN_TIMEOUT = 60.0
# Both apps start as an installed console does on an agent's machine: from Python's bytecode
# cache, written by the warm-up. Where PYTHONDONTWRITEBYTECODE is set (this project's
# development machines set it), every run would otherwise compile the console's own modules
# from source again (about 75 ms of its start); an editable install has no other cache. The
# cache goes to a folder of its own, not beside the sources.
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "portal-console-bench" / "pycache")


# --- the cached database -------------------------------------------------------

def database_path(customers: int) -> Path:
    """Where the seeded database of ``customers`` customers is kept between runs."""
    from store.db import MIGRATIONS_DIR

    # A new migration makes a new file, so a cached database never has an old schema.
    schema = max(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))
    return Path(tempfile.gettempdir()) / "portal-console-bench" / f"customers-{customers}-{schema}.db"


def ensure_database(customers: int) -> Path:
    """The cached database, made (into a temporary name, then renamed) when missing."""
    path = database_path(customers)
    if path.exists():
        return path
    from store import db, demo

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    started = time.perf_counter()
    print(f"making {path} with {customers:,} customers (once) ...", flush=True)
    db.init(f"sqlite:///{partial}")
    demo.seed(customers=customers, actor="bench")
    db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(path)
    print(f"made in {time.perf_counter() - started:.1f} s", flush=True)
    return path


# --- the two apps, run in the child process -------------------------------------

def report(fd: int) -> None:
    """Tell the parent the first frame with results is on the terminal."""
    os.write(fd, b"frame\n")
    os.close(fd)


def _rss_kb() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process, in KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def run_console(url: str, report_fd: int, searches: int = 0) -> None:
    """The console as `portal-console` starts it, exiting after its first frame with results
    (or, with ``searches``, after that many searches typed into it, reporting its memory)."""
    import asyncio

    from textual import on
    from textual.widgets import DataTable, Input

    from store import db
    from store.config import load_config
    from tui import app as tui_app
    from tui.app import PortalConsoleApp
    from cli.main import parse_arguments
    from tui.messages import SearchResults

    parse_arguments([])
    config = load_config()
    db.init(url)

    class FirstFrameConsole(PortalConsoleApp):
        """The shipped console; the only addition reports the first frame and exits."""

        # Textual finds CSS beside the subclass's file; point it back at the console's own.
        CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))
        reported = False
        # When each search (by the search screen's generation) first put rows in the table.
        results_at: dict[int, float] = {}

        @on(SearchResults)
        def _first_results(self, message: SearchResults) -> None:
            if message.page.customers or not message.page.has_more:  # rows, or no match at all
                self.results_at.setdefault(message.generation, time.perf_counter())
            # The search screen has put the rows in its table; the next frame shows them.
            if not self.reported and message.page.customers:
                self.reported = True
                self.call_after_refresh(self._frame_drawn)

        def _frame_drawn(self) -> None:
            # Guard against timing the wrong frame: the results must be in the search table.
            if not self.screen.query_one(DataTable).row_count:
                raise SystemExit("first results frame reported before the table had rows")
            if searches:
                self.run_worker(self._search_many(), exclusive=True)
                return
            report(report_fd)
            self.exit()

        async def _search_many(self) -> None:
            screen = self.screen
            waits = []
            for n in range(searches):
                typed = time.perf_counter()
                screen.query_one("#search-input", Input).value = SEARCHES[n % len(SEARCHES)]
                await asyncio.sleep(0.05)
                generation = screen._generation  # the search the new text started
                for _ in range(6000):
                    if not screen._loading and generation in self.results_at:
                        break
                    await asyncio.sleep(0.001)
                # From the key to its first results in the table, less the typing pause it waits.
                waits.append((self.results_at[generation] - typed - self.search_delay) * 1000)
            rss, peak = _rss_kb()
            waits.sort()
            p50, p95 = statistics.median(waits), waits[int(0.95 * (len(waits) - 1))]
            os.write(report_fd, f"rss {rss} {peak} {p50:.1f} {p95:.1f} {waits[-1]:.1f}\n".encode())
            os.close(report_fd)
            self.exit()

    mailer = None
    if config.mailer_in_console:
        from mailer.background import BackgroundMailer

        mailer = BackgroundMailer(config)
    FirstFrameConsole(agent=config.agent, mailer=mailer).run()


def run_bare(url: str, report_fd: int, page_size: int, stack: bool = False) -> None:
    """A plain Textual app with the search screen's widgets, filled with fixed rows (no query).

    With ``stack``, the floor the stack sets: before its first frame the app also reads a
    pydantic-settings class of three PORTAL_ variables and fills its table from one query
    through peewee (the first customers by id, on the same database: the query is not what
    this measures), as any console on these libraries must; none of the console's own modules."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Input, Select

    rows = [(f"C{n + 1:06d}", "Ada Lovelace", "Analytical Engines", "ada@engines.example", "Active")
            for n in range(page_size)]
    if stack:
        rows = _stack_rows(url, page_size)

    class BareSearch(App[None]):
        def compose(self) -> ComposeResult:
            yield Input(placeholder="Search")
            yield Select([("All", "all"), ("Active", "active")], value="all", allow_blank=False)
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Reference", "Name", "Company", "Primary email", "Portal")
            self.query_one(Input).focus()
            for row in rows:
                table.add_row(*row)
            self.call_after_refresh(self.frame_drawn)

        def frame_drawn(self) -> None:
            report(report_fd)
            self.exit()

    BareSearch().run()


def _stack_rows(url: str, page_size: int) -> list[tuple[str, ...]]:
    """The bare+stack app's rows: settings through pydantic-settings, one peewee query."""
    from peewee import SqliteDatabase
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Settings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="PORTAL_", env_file=".env", extra="ignore", frozen=True)
        database_url: str = url
        agent: str = "bench"
        mailer_in_console: bool = True

    settings = Settings()
    database = SqliteDatabase(settings.database_url.removeprefix("sqlite:///"))
    cursor = database.execute_sql("SELECT reference, name, company, primary_email FROM customer "
                                  "ORDER BY id LIMIT ?", (page_size,))
    rows = [(*row, "Active") for row in cursor.fetchall()]
    database.close()
    return rows


# --- the parent: spawn, time, summarise ------------------------------------------

def _drain(fd: int) -> None:
    """Read and drop the child's terminal output, so its writes never block."""
    while True:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def _run_child(args: list[str], size: tuple[int, int], timeout: float) -> tuple[str, float, str]:
    """Spawn this script with ``args`` (plus its report pipe) on a pseudo-terminal of ``size``;
    return the line it reported (empty if none within ``timeout``), the seconds from the
    spawn to that report, and the end of its stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    ready_read, ready_write = os.pipe()
    command = [sys.executable, str(Path(__file__).resolve()), *args, "--report-fd", str(ready_write)]
    threading.Thread(target=_drain, args=(master,), daemon=True).start()
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=errors, pass_fds=(ready_write,),
                                 cwd=ROOT, start_new_session=True, env=CHILD_ENV)
        os.close(ready_write)
        ready, _, _ = select.select([ready_read], [], [], timeout)
        elapsed = time.perf_counter() - started
        line = os.read(ready_read, 64).decode() if ready else ""
        os.close(ready_read)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        os.close(slave)
        os.close(master)
        errors.seek(0)
        return line.strip(), elapsed, f"(exit {child.returncode}):\n{errors.read().decode(errors='replace')[-2000:]}"


def time_one(kind: str, url: str, size: tuple[int, int], page_size: int) -> float:
    """Seconds from spawning a child running ``kind`` to its first frame with results."""
    line, elapsed, errors = _run_child(["--child", kind, "--url", url, "--page-size", str(page_size)],
                                       size, RUN_TIMEOUT)
    if line != "frame":
        raise SystemExit(f"{kind} never reported its first frame {errors}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Measure both apps, print each run, the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=100, help="searches before the memory is read")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="80x24", help="terminal columns x rows")
    parser.add_argument("--page-size", type=int, default=100, help="rows the first query fetches")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--report-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "console":
        run_console(args.url, args.report_fd, args.searches if args.memory else 0)
        return 0
    if args.child in ("bare", "bare+stack"):
        run_bare(args.url, args.report_fd, args.page_size, stack=args.child == "bare+stack")
        return 0

    columns, rows = (int(n) for n in args.size.lower().split("x"))
    url = f"sqlite:///{ensure_database(args.customers)}"
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for kind in KINDS:  # warm-up: the OS file cache and Python's bytecode cache
        time_one(kind, url, (columns, rows), args.page_size)
    for run in range(1, args.runs + 1):
        # Rotate the order so a slow moment of the machine doesn't always hit the same app.
        order = KINDS[run % len(KINDS):] + KINDS[:run % len(KINDS)]
        for kind in order:
            times[kind].append(time_one(kind, url, (columns, rows), args.page_size))
        print(f"run {run}: " + ", ".join(f"{kind} {times[kind][-1] * 1000:.0f} ms" for kind in KINDS), flush=True)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    ratio = medians["console"] / medians["bare"]
    print(f"customers {args.customers:,}, terminal {columns}x{rows}, {args.runs} runs each, median:")
    for kind in KINDS:
        print(f"  {kind:17} {medians[kind] * 1000:5.0f} ms  ({medians[kind] / medians['bare']:.2f}x bare)")
    print("  (bare+stack is the floor the stack sets: Textual, pydantic-settings and peewee, one query)")
    print(f"ratio console / bare {ratio:.2f}x (target <= {TARGET_RATIO}x): "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    if args.searches:
        rss, peak, waits = console_memory(url, (columns, rows), args.page_size, args.searches)
        print(f"console after {args.searches} searches: RSS {rss / 1024:.0f} MB (peak {peak / 1024:.0f} MB), "
              f"target < {TARGET_RSS_MB} MB: {'met' if rss / 1024 < TARGET_RSS_MB else 'NOT met'}")
        print(f"those searches, key to first rows in the table less the typing pause: "
              f"p50 {waits[0]:.1f} ms, p95 {waits[1]:.1f} ms, max {waits[2]:.1f} ms")
    return 0


def console_memory(url: str, size: tuple[int, int], page_size: int,
                   searches: int) -> tuple[int, int, tuple[float, ...]]:
    """Spawn the console, type ``searches`` searches, and read its VmRSS and VmHWM (KiB) and
    the searches' p50, p95 and max wait for results (ms)."""
    line, _, errors = _run_child(["--child", "console", "--url", url, "--memory", "--searches", str(searches),
                                  "--page-size", str(page_size)], size, RUN_TIMEOUT + searches * 2)
    if not line.startswith("rss "):
        raise SystemExit(f"the console never reported its memory {errors}")
    _, rss, peak, *waits = line.split()
    return int(rss), int(peak), tuple(float(w) for w in waits)


if __name__ == "__main__":
    sys.exit(main())
