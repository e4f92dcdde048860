"""Fill a database with N realistic customers for the search benchmarks.

    .venv/bin/python bench/seed_customers.py N [--database-url URL]

Varied names (accented ones too) and companies, some companies shared by many customers,
1 to 3 addresses each (own, billing@ and accounts@ of the company, a personal mailbox),
every portal state (about 35% not set up, 20% awaiting customer setup, 45% active), and
references C0000001 on. The same N gives the same customers every time (seeded random).

The default database is a SQLite file in the temp folder. The database must hold no
customers, or only ones an earlier run of this script made (it is wiped and refilled).
Rows go in by the driver's bulk paths (executemany; COPY on PostgreSQL) with the search
index's triggers off, and the index is rebuilt once at the end, with a progress bar; a
PostgreSQL database is then vacuumed (as autovacuum would soon do).
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

FIRST = """Ada Grace Alan Edsger Barbara Ken Radia Linus Margaret Donald Frances John Katherine Tim Hedy
Dennis Sophie Niklaus Anita Guido José Zoë Renée Søren Łukasz Björn François Chloé Mónica Ángel Jürgen
Ingrid Olga Sergei Aiko Hiroshi Priya Arjun Fatima Omar Amara Kwame Mei Wei Lucía Mateo Elif Emre
Noor Leila Mariam David Sarah Michael Emma Olivia Liam Noah Ava Mia Lucas Ethan Harper Amelia Henry
Jack Isla Freya Oscar Hugo Léa Manon Inès Théo Nathan Jakub Zuzana Petra Tomáš Ivana Marek Agnieszka
Paweł Katarzyna Dorota Bogdan Nikola Milica Dragan Ana Maria Joana Tiago Rui Inês Beatriz Carmen
Javier Pablo Diego Sofía Valentina Camila Matías Thiago Gabriel Rafael Yusuf Ayşe Mehmet Zeynep""".split()
LAST = """Lovelace Hopper Turing Dijkstra Liskov Thompson Perlman Torvalds Hamilton Knuth Allen McCarthy
Johnson Berners-Lee Lamarr Ritchie Wilson Wirth Borg Rossum Müller Schmidt Schneider Fischer Weber
Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Schröder Neumann Schwarz Zimmermann
Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann García Martínez López
González Rodríguez Fernández Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Álvarez
Muñoz Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco
Suárez Molina Morales Ortega Delgado Castro Ortiz Rubio Marín Sanz Iglesias Núñez Medina Garrido
Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski Nowakowski Pawłowski
Dubois Durand Lefèvre Moreau Laurent Simon Michel Leroy Roux David Bertrand Morel Fournier Girard
Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Faure André Mercier Blanc Guérin Boyer
Smith Jones Taylor Brown Williams Davies Evans Thomas Roberts Walker Wright Robinson Thompson White
Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke Clark Turner Hill Scott Cooper
Morris Ward Moore King Watson Baker Harrison Morgan Patel Young Mitchell Kelly Chapman Bell Ahmed
Khan Singh Kumar Ali Nakamura Tanaka Suzuki Watanabe Kobayashi Yamamoto Kim Lee Park Chen Wang Liu
Zhang Nguyen Tran Pham Hoang Yılmaz Kaya Demir Şahin Çelik Öztürk Andersson Johansson Karlsson
Nilsson Eriksson Larsson Olsen Hansen Jensen Nielsen Pedersen Kristensen Østergaard Virtanen Korhonen
Mäkinen Nieminen Hämäläinen Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco
Bruno Gallo Conti Costa Giordano Mancini Rizzo Lombardi Moretti Silva Santos Oliveira Souza Pereira
Carvalho Almeida Ribeiro Rodrigues Gomes Lima Araújo Fernandes Cardoso Teixeira Papadopoulos""".split()
ADJECTIVE = """Acme Global Northern Southern Eastern Western Blue Green Red Silver Golden Royal United
Pacific Atlantic Alpine Coastal Metro Urban Rural Prime Bright Swift Solid Clear True First Grand
Summit Harbor River Valley Forest Ocean Sunrise Evergreen Pioneer Liberty Heritage Vertex Nova
Apex Quantum Stellar Crystal Iron Oak Cedar Maple Granite Copper Falcon Eagle Lion Tiger Polar""".split()
NOUN = """Freight Logistics Foods Mills Farms Health Imports Engines Systems Networks Software Energy
Textiles Bakery Brewing Motors Pharma Dental Clinic Studio Media Print Builders Construction
Plumbing Electric Solar Water Telecom Analytics Insurance Capital Partners Legal Travel Tours
Hotels Apparel Furniture Garden Pets Books Toys Sports Optics Robotics Marine Aviation Rail""".split()
SUFFIX = ["Ltd", "GmbH", "Inc", "BV", "SA", "AG", "LLC", "& Co", "Group", "Holding", "", "", ""]
FREEMAIL = ["mail.example", "post.example", "inbox.example", "web.example"]
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2hzZWVk$YmVuY2hzZWVkYmVuY2hzZWVkYmVuY2hzZWVk"
CHUNK = 20_000


def default_url(customers: int) -> str:
    return f"sqlite:///{Path(tempfile.gettempdir()) / 'portal-console-bench' / f'search-{customers}.db'}"


def _ascii(text: str) -> str:
    from store.search_text import fold

    return "".join(ch for ch in fold(text) if ch.isalnum() or ch in ".-")


def companies(rng: random.Random, count: int) -> list[str]:
    names = set()
    while len(names) < count:
        name = f"{rng.choice(ADJECTIVE)} {rng.choice(NOUN)} {rng.choice(SUFFIX)}".strip()
        if rng.random() < 0.3:
            name = f"{rng.choice(LAST)} {rng.choice(NOUN)} {rng.choice(SUFFIX)}".strip()
        names.add(name)
    return sorted(names)


def customers(total: int, seed: int = 2026) -> Iterator[tuple]:
    """(reference, name, company, primary_email, username or None, active) for each customer."""
    rng = random.Random(seed)
    pool = companies(rng, max(50, total // 20))
    # A few big companies hold many customers (their branches), most hold a handful.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(pool))]
    picks = rng.choices(pool, weights=weights, k=total)
    for i in range(total):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = picks[i] if rng.random() < 0.9 else ""
        domain = (_ascii(company.split()[0] + company.split()[1]) if company else rng.choice(FREEMAIL))
        domain = domain if "." in domain else domain + ".example"
        own = f"{_ascii(first)}.{_ascii(last)}{i % 997}@{domain}"
        addresses = [own]
        roll = rng.random()
        if company and roll < 0.35:
            addresses.append(f"billing@{domain}")
        if company and roll < 0.12:
            addresses.append(f"accounts@{domain}")
        if not company and roll < 0.3:
            addresses.append(f"{_ascii(first)}{i % 89}@{rng.choice(FREEMAIL)}")
        separator = rng.choice(["; ", ", ", " "])
        state = rng.random()
        username = None if state < 0.35 else f"{_ascii(first)}.{_ascii(last)}.{i + 1}"
        yield (f"C{i + 1:07d}", f"{first} {last}", company, separator.join(addresses), username, state >= 0.55)


_KEY_OF_CHARACTER: dict[str, str] = {}


def fast_username_key(username: str) -> str:
    """store.usernames.username_key, character by character with each character's key kept:
    the real function costs about 0.3 ms (a million usernames: minutes). Only for the
    generated usernames (ASCII letters, digits and dots), and checked against the real
    function on every 500th (check_username_keys)."""
    from store.usernames import username_key

    parts = []
    for ch in username:
        key = _KEY_OF_CHARACTER.get(ch)
        if key is None:
            key = _KEY_OF_CHARACTER[ch] = username_key(f"x{ch}x")[1:-1]
        parts.append(key)
    return "".join(parts)


def check_username_keys(usernames: list[str]) -> None:
    from store.usernames import username_key

    for name in usernames[::500]:
        if fast_username_key(name) != username_key(name):
            raise SystemExit(f"username_key({name!r}) is not character by character; seeding would "
                             "store wrong keys (use store.usernames.username_key here)")


def _copy(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v).replace("\\", "\\\\") for v in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def seed(url: str, total: int) -> float:
    """Wipe and fill the database; returns the seconds it took."""
    from store import db, search_index
    from store.models import ALL_MODELS, AccountSetting, Customer
    from store.settings import get_settings

    db.init(url)
    if Customer.select().exists():
        setting = AccountSetting.get_or_none(AccountSetting.id == 1)
        if setting is None or not setting.is_demo:
            raise SystemExit(f"{url} holds customers not made by this script or `demo`; give another database.")
    started = time.perf_counter()
    columns = [TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with Progress(*columns) as progress, search_index.suspended(
            db.database.obj, lambda done, all_: progress.update(index, completed=done, total=all_)):
        wipe = progress.add_task("wiping", total=len(ALL_MODELS))
        index = progress.add_task("search index", total=total, start=True)
        for model in reversed(ALL_MODELS):
            if db.is_postgres():
                db.database.execute_sql(f'TRUNCATE "{model._meta.table_name}" RESTART IDENTITY CASCADE')
            else:
                model.delete().execute()
            progress.advance(wipe)
        get_settings()
        AccountSetting.update(is_demo=True).where(AccountSetting.id == 1).execute()
        task = progress.add_task("customers", total=total)
        with db.database.atomic():
            for chunk in generated_chunks(total):
                write_batch(chunk, now)
                progress.advance(task, len(chunk))
    if db.is_postgres():
        # As autovacuum would soon: the visibility map lets a walk's bound be read from the
        # sort index alone (a search is measured as it runs for good).
        db.database.execute_sql("VACUUM")
    return time.perf_counter() - started


def _generate(total: int, chunks: multiprocessing.Queue) -> None:
    batch: list[tuple] = []
    for row in customers(total):
        batch.append(row)
        if len(batch) == CHUNK:
            chunks.put(batch)
            batch = []
    chunks.put(batch)
    chunks.put(None)


def generated_chunks(total: int) -> Iterator[list[tuple]]:
    """The customers in chunks, generated by a second process while this one writes the
    previous chunk (on two cores that takes the generation, ~10 s a million, off the clock)."""
    # Spawned, not forked: a forked child would inherit this process's open database connection.
    context = multiprocessing.get_context("spawn")
    chunks: multiprocessing.Queue = context.Queue(maxsize=4)
    maker = context.Process(target=_generate, args=(total, chunks), daemon=True)
    maker.start()
    try:
        while (chunk := chunks.get()) is not None:
            if chunk:
                yield chunk
    finally:
        maker.join(timeout=5)
        if maker.is_alive():
            maker.terminate()


def write_batch(rows: list[tuple], now: datetime) -> None:
    """Insert one chunk of customers and their logins (ids follow the references)."""
    from store import db

    conn = db.database.connection()
    cursor = conn.cursor()
    first_id = int(rows[0][0][1:])
    customer_rows = [(first_id + n, ref, name, company, email, 1, now, now)
                     for n, (ref, name, company, email, _, _) in enumerate(rows)]
    check_username_keys([user for *_, user, _ in rows if user])
    login_rows = [(first_id + n, user, fast_username_key(user), PASSWORD_HASH if active else None,
                   now if active else None, now)
                  for n, (_, _, _, _, user, active) in enumerate(rows) if user]
    customer_columns = ("id", "reference", "name", "company", "primary_email", "version", "created_at", "updated_at")
    login_columns = ("customer_id", "username", "username_key", "password_hash", "password_set_at", "created_at")
    if db.is_postgres():
        _copy(cursor, "customer", customer_columns, customer_rows)
        _copy(cursor, "portal_login", login_columns, login_rows)
        cursor.execute("SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))")
    else:
        marks = ", ".join("?" * len(customer_columns))
        cursor.executemany(f"INSERT INTO customer ({', '.join(customer_columns)}) VALUES ({marks})", customer_rows)
        marks = ", ".join("?" * len(login_columns))
        cursor.executemany(f"INSERT INTO portal_login ({', '.join(login_columns)}) VALUES ({marks})", login_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", type=int)
    parser.add_argument("--database-url", help="default: a SQLite file in the temp folder")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.customers)
    seconds = seed(url, args.customers)
    print(f"{args.customers:,} customers in {seconds:.1f} s into {url.split('@')[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
