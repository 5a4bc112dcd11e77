"""A realistic example database, built reproducibly by code: a chain of bookshops.

``build_example_db(path, seed)`` writes the same rows for the same seed, so demos, tests and
tutorials have a database to point at without shipping a binary file.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import os
import random
import sqlite3
import tempfile
from pathlib import Path

from ..errors import SQLFoundryError

EXAMPLE_DB_ID = "bookshop"

DOMAIN_DESCRIPTION = """\
Bookshop: a chain of bookshops in several countries, 2015-2024.

- store(store_id) — shops, with city, country, opening date and floor area.
- employee(employee_id) — staff; manager_id references employee (the CEO has none),
  store_id references store (head-office staff have none).
- publisher(publisher_id), author(author_id) — who publishes and writes the books.
- book(book_id) — titles with ISBN, genre, language, page count, list price and
  published_date (a date stored as TEXT 'YYYY-MM-DD').
- book_author(book_id, author_id) — which authors wrote which books (many-to-many), in order.
- customer(customer_id) — registered customers; email, birth date and notes are optional.
- inventory(store_id, book_id) — copies on hand per store and book.
- sale(sale_id) — one receipt: store, cashier (employee), optional customer (walk-ins have
  none), time of sale, payment method and status.
- sale_item(sale_id, line_no) — the lines of a receipt: book, quantity, unit price, discount.
- refund(refund_id) — money returned for one receipt line; (sale_id, line_no) references sale_item.
- review(review_id) — customers' 1-5 star ratings of books; helpful_votes has no declared type.

Popularity is skewed: a few books, cities and customers account for most of the sales."""

_DDL = """
CREATE TABLE store (
    store_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    opened_on DATE NOT NULL,
    floor_area_m2 REAL,
    is_flagship BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE employee (
    employee_id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    job_title TEXT NOT NULL,
    store_id INTEGER REFERENCES store (store_id),
    manager_id INTEGER REFERENCES employee (employee_id),
    hire_date DATE NOT NULL,
    salary REAL NOT NULL,
    is_active BOOLEAN NOT NULL
);
CREATE TABLE publisher (
    publisher_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL,
    founded_year INTEGER
);
CREATE TABLE author (
    author_id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    birth_year INTEGER,
    country TEXT
);
CREATE TABLE book (
    book_id INTEGER PRIMARY KEY,
    isbn TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    publisher_id INTEGER NOT NULL REFERENCES publisher (publisher_id),
    genre TEXT NOT NULL,
    language TEXT NOT NULL,
    published_date TEXT NOT NULL,
    pages INTEGER,
    list_price REAL NOT NULL
);
CREATE TABLE book_author (
    book_id INTEGER NOT NULL REFERENCES book (book_id),
    author_id INTEGER NOT NULL REFERENCES author (author_id),
    author_order INTEGER NOT NULL,
    PRIMARY KEY (book_id, author_id)
);
CREATE TABLE customer (
    customer_id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    birth_date DATE,
    joined_at DATETIME NOT NULL,
    is_loyalty_member BOOLEAN NOT NULL,
    notes TEXT
);
CREATE TABLE inventory (
    store_id INTEGER NOT NULL REFERENCES store (store_id),
    book_id INTEGER NOT NULL REFERENCES book (book_id),
    quantity_on_hand INTEGER NOT NULL,
    last_restocked DATE,
    PRIMARY KEY (store_id, book_id)
);
CREATE TABLE sale (
    sale_id INTEGER PRIMARY KEY,
    store_id INTEGER NOT NULL REFERENCES store (store_id),
    employee_id INTEGER NOT NULL REFERENCES employee (employee_id),
    customer_id INTEGER REFERENCES customer (customer_id),
    sold_at DATETIME NOT NULL,
    payment_method TEXT,
    status TEXT NOT NULL
);
CREATE TABLE sale_item (
    sale_id INTEGER NOT NULL REFERENCES sale (sale_id),
    line_no INTEGER NOT NULL,
    book_id INTEGER NOT NULL REFERENCES book (book_id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL,
    discount REAL,
    PRIMARY KEY (sale_id, line_no)
);
CREATE TABLE refund (
    refund_id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    refunded_at DATETIME NOT NULL,
    amount REAL NOT NULL,
    reason TEXT,
    FOREIGN KEY (sale_id, line_no) REFERENCES sale_item (sale_id, line_no)
);
CREATE TABLE review (
    review_id INTEGER PRIMARY KEY,
    book_id INTEGER NOT NULL REFERENCES book (book_id),
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    review_text TEXT,
    reviewed_on DATE NOT NULL,
    helpful_votes
);
"""

# --- word lists ---------------------------------------------------------------------------------
_FIRST_NAMES = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Margaret Mark "
    "Sandra Paul Ashley Steven Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian "
    "Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Laura Edward Helen Jeffrey Sharon "
    "Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Ruth "
    "Larry Brenda Justin Pamela Scott Nicole Brandon Katherine Frank Samantha Benjamin Christine "
    "Gregory Emma Samuel Catherine Raymond Debra Patrick Rachel Alexander Carolyn Jack Janet Dennis "
    "Maria Jerry Olivia Tyler Heather Aaron Diane Jose Julie Adam Joyce Henry Victoria Nathan Kelly "
    "Sofia Lukas Chiara Matteo Ines Hugo Amelie Jonas Lucia Pierre Elena Mateo Freya Anders Yuki "
    "Hiroshi Aiko Wei Mei Arjun Priya Kwame Amara Santiago Valentina Olga Dmitri Fatima Omar Zara"
).split()
_LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers "
    "Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
    "Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Muller Schmidt Schneider Fischer Weber Rossi "
    "Russo Ferrari Bianchi Dubois Moreau Laurent Lefebvre Jensen Nielsen Hansen Larsen Tanaka Suzuki "
    "Sato Wang Li Zhang Chen Singh Kumar Sharma Okafor Mensah Silva Santos Oliveira Novak Kowalski"
).split()
# (city, country, relative population weight)
_CITIES = (
    ("London", "United Kingdom", 30), ("New York", "United States", 32), ("Paris", "France", 22),
    ("Berlin", "Germany", 18), ("Toronto", "Canada", 12), ("Sydney", "Australia", 11),
    ("Chicago", "United States", 14), ("Manchester", "United Kingdom", 8), ("Madrid", "Spain", 12),
    ("Rome", "Italy", 10), ("Amsterdam", "Netherlands", 7), ("Dublin", "Ireland", 6),
    ("Boston", "United States", 9), ("Lyon", "France", 5), ("Munich", "Germany", 7),
    ("Edinburgh", "United Kingdom", 4), ("Vancouver", "Canada", 5), ("Melbourne", "Australia", 8),
    ("Barcelona", "Spain", 8), ("Milan", "Italy", 7), ("Seattle", "United States", 6),
    ("Copenhagen", "Denmark", 4), ("Stockholm", "Sweden", 4), ("Oslo", "Norway", 2),
    ("Vienna", "Austria", 4), ("Zurich", "Switzerland", 3), ("Lisbon", "Portugal", 3),
    ("Austin", "United States", 4), ("Bristol", "United Kingdom", 3), ("Wellington", "New Zealand", 1),
)  # fmt: skip
_ADJECTIVES = (
    "Silent Hidden Last Golden Broken Secret Lost Burning Quiet Midnight Distant Crimson Forgotten "
    "Little Endless Wild Bright Dark Winter Summer Glass Iron Paper Silver Hollow Restless Gentle "
    "Northern Savage Invisible Curious Final Wandering Shattered Sacred Bitter Electric"
).split()
_NOUNS = (
    "River Garden House Shadow Kingdom Road Ocean Letter Mirror Forest Island City Storm Dream "
    "Promise Fire Mountain Bridge Library Song Clock Harbor Lantern Orchard Machine Empire Map "
    "Station Tide Crown Window Journey Inheritance Silence Compass Archive Voyage Engine Garden"
).split()
_TOPICS = (
    "Python Statistics Cooking Gardening History Economics Philosophy Photography Design Astronomy "
    "Chess Negotiation Leadership Databases Mindfulness Baking Sailing Architecture Writing Music"
).split()
# (genre, weight, price range, page range)
_GENRES = (
    ("Fiction", 30, (8.0, 22.0), (180, 520)), ("Mystery", 14, (8.0, 18.0), (220, 450)),
    ("Science Fiction", 10, (9.0, 20.0), (250, 700)), ("Fantasy", 10, (9.0, 24.0), (300, 900)),
    ("Romance", 9, (6.0, 14.0), (200, 380)), ("Biography", 6, (12.0, 32.0), (280, 640)),
    ("History", 6, (14.0, 40.0), (300, 800)), ("Science", 5, (15.0, 45.0), (200, 600)),
    ("Children", 5, (5.0, 15.0), (24, 160)), ("Cookbook", 3, (18.0, 40.0), (160, 360)),
    ("Poetry", 2, (7.0, 16.0), (60, 180)),
)  # fmt: skip
_LANGUAGES = (("English", 70), ("French", 8), ("German", 7), ("Spanish", 7), ("Italian", 4), ("Japanese", 4))
_GUIDE_SUFFIXES = ("A Beginner's Guide", "The Essentials", "In Practice", "Made Simple")
_PUBLISHER_WORDS = "Penguin Harbor Lantern Meridian Oak Raven Atlas Beacon Cedar Falcon Orchard Quill".split()
_PUBLISHER_KINDS = ("Press", "Books", "House", "Publishing", "& Sons", "Editions")
_JOB_TITLES = ("Sales Associate", "Senior Sales Associate", "Bookseller", "Stock Clerk", "Cashier")
_PAYMENTS = (("card", 62), ("cash", 22), ("mobile", 10), ("gift_card", 4))
_SALE_STATUS = (("completed", 90), ("refunded", 4), ("cancelled", 4), ("pending", 2))
_REFUND_REASONS = ("damaged copy", "wrong book", "duplicate gift", "changed mind", "late delivery")
_REVIEW_PHRASES = (
    "Could not put it down.", "Slow start but worth it.", "Beautifully written.",
    "Not my kind of book.", "The ending was a letdown.", "A gift for my mother; she loved it.",
    "Better than the film.", "Too long.", "Will read again.", "Characters felt flat.",
)  # fmt: skip
_NOTES = ("prefers email contact", "VIP", "book club organiser", "teacher discount", "moved abroad")

_START = dt.date(2015, 1, 1)
_END = dt.date(2024, 12, 31)


class ExampleDatabaseExistsError(SQLFoundryError, FileExistsError):
    """The target file exists and ``overwrite`` was not given."""


def describe() -> str:
    """A plain-language description of the example database's domain and tables."""
    return DOMAIN_DESCRIPTION


def build_example_db(
    path: str | os.PathLike[str], seed: int = 0, scale: float = 1.0, overwrite: bool = False
) -> Path:
    """Build the bookshop database at ``path`` and return its path.

    The same ``seed`` and ``scale`` always give the same rows. ``scale`` multiplies the row counts
    (1.0 gives about 15k rows in 11 tables). The file is written atomically: it is built next to
    ``path`` under a temporary name and renamed into place only when complete.
    """
    target = Path(path)
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if target.exists() and not overwrite:
        raise ExampleDatabaseExistsError(
            f"{str(target)!r} already exists; pass overwrite=True (--overwrite) to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(_DDL)
            with conn:
                for table, rows in _generate(random.Random(seed), scale).items():
                    if rows:
                        marks = ", ".join("?" * len(rows[0]))
                        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            bad = conn.execute("PRAGMA foreign_key_check").fetchall()
            if bad:  # pragma: no cover - a bug in the generator, not a user error
                raise RuntimeError(f"example database violates foreign keys: {bad[:5]}")
        finally:
            conn.close()
        if overwrite:
            os.replace(tmp, target)
        else:
            _publish_no_clobber(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _publish_no_clobber(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target`` unless something created ``target`` meanwhile."""
    try:
        os.link(tmp, target)  # atomic, and fails if target exists
    except FileExistsError:
        raise ExampleDatabaseExistsError(
            f"{str(target)!r} already exists; pass overwrite=True (--overwrite) to replace it"
        ) from None
    except OSError:
        # Filesystems without hard links: fall back to a plain atomic rename.
        if target.exists():
            raise ExampleDatabaseExistsError(f"{str(target)!r} already exists") from None
        os.replace(tmp, target)


def content_digest(path: str | os.PathLike[str]) -> dict[str, str]:
    """SHA-256 of each table's rows in primary-key order, to compare data rather than file bytes."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        digests = {}
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
        for (name,) in names:
            h = hashlib.sha256()
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
            h.update(repr(cols).encode())
            order = ", ".join(f'"{c}"' for c in cols)
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}'):
                h.update(repr(row).encode())
            digests[name] = h.hexdigest()
        return digests
    finally:
        conn.close()


# --- generation ---------------------------------------------------------------------------------
class _Weighted:
    """Draw from a fixed list with fixed weights (cumulative table + bisect, reproducible)."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cum = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


def _zipf(items: list, s: float = 1.1) -> _Weighted:
    return _Weighted(items, [1.0 / (rank + 1) ** s for rank in range(len(items))])


def _n(base: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(base * scale))


def _day(rng: random.Random, start: dt.date = _START, end: dt.date = _END) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _isbn13(rng: random.Random, used: set[str]) -> str:
    while True:
        body = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
        check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
        isbn = body + str(check)
        if isbn not in used:
            used.add(isbn)
            return isbn


def _email(first: str, last: str, n: int, domain: str) -> str:
    return f"{first.lower()}.{last.lower()}{n}@{domain}"


def _generate(rng: random.Random, scale: float) -> dict[str, list[tuple]]:
    cities = _Weighted([(c, k) for c, k, _ in _CITIES], [w for *_, w in _CITIES])
    genres = _Weighted(list(_GENRES), [g[1] for g in _GENRES])
    languages = _Weighted([lang for lang, _ in _LANGUAGES], [w for _, w in _LANGUAGES])
    payments = _Weighted([p for p, _ in _PAYMENTS], [w for _, w in _PAYMENTS])
    statuses = _Weighted([s for s, _ in _SALE_STATUS], [w for _, w in _SALE_STATUS])

    # stores: the biggest cities get shops first
    by_size = sorted(_CITIES, key=lambda c: -c[2])
    stores = []
    for i in range(_n(12, scale, 2)):
        city, country, _ = by_size[i % len(by_size)]
        branch = "" if i < len(by_size) else f" {i // len(by_size) + 1}"
        opened = _day(rng, dt.date(2005, 1, 1), dt.date(2019, 12, 31))
        area = round(rng.lognormvariate(5.3, 0.45), 1) if rng.random() > 0.08 else None
        stores.append(
            (i + 1, f"Pages & Co. {city}{branch}", city, country, opened.isoformat(), area, int(i < 2))
        )

    # employees: a CEO, regional managers, one manager per store, staff reporting to store managers
    employees: list[tuple] = []

    def hire(
        title: str, store_id: int | None, manager_id: int | None, salary: float, earliest: dt.date
    ) -> int:
        eid = len(employees) + 1
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        email = _email(first, last, eid, "pagesandco.example") if rng.random() > 0.05 else None
        hired = _day(rng, max(earliest, dt.date(2005, 1, 1)), dt.date(2024, 6, 30))
        active = int(rng.random() > 0.12)
        employees.append((eid, first, last, email, title, store_id, manager_id, hired.isoformat(),
                          round(salary * rng.uniform(0.9, 1.15), 2), active))  # fmt: skip
        return eid

    ceo = hire("Chief Executive", None, None, 185000.0, dt.date(2005, 1, 1))
    regional = [
        hire("Regional Manager", None, ceo, 92000.0, dt.date(2008, 1, 1)) for _ in range(_n(3, scale))
    ]
    staff_of_store: dict[int, list[int]] = {}
    for store_id, *_rest in stores:
        opened = dt.date.fromisoformat(_rest[3])
        boss = hire("Store Manager", store_id, regional[store_id % len(regional)], 58000.0, opened)
        staff_of_store[store_id] = [boss]
        for _ in range(max(1, round(rng.triangular(4, 14, 7) * min(scale, 1.0) ** 0.5))):
            title = rng.choice(_JOB_TITLES)
            staff_of_store[store_id].append(hire(title, store_id, boss, 31000.0, opened))

    publishers = []
    used_names: set[str] = set()
    while len(publishers) < _n(40, scale, 2):
        if rng.random() < 0.5:
            name = f"{rng.choice(_PUBLISHER_WORDS)} {rng.choice(_PUBLISHER_KINDS)}"
        else:
            name = f"{rng.choice(_LAST_NAMES)} & {rng.choice(_LAST_NAMES)}"
        if name in used_names:
            continue
        used_names.add(name)
        founded = rng.randint(1840, 2015) if rng.random() > 0.15 else None
        publishers.append((len(publishers) + 1, name, cities.draw(rng)[1], founded))

    authors = []
    for i in range(_n(420, scale, 2)):
        birth = rng.randint(1925, 1998) if rng.random() > 0.2 else None
        country = cities.draw(rng)[1] if rng.random() > 0.1 else None
        authors.append((i + 1, rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES), birth, country))

    publisher_pick = _zipf([p[0] for p in publishers], 0.9)
    author_pick = _zipf([a[0] for a in authors], 0.8)
    books, book_authors = [], []
    isbns: set[str] = set()
    for i in range(_n(850, scale, 2)):
        genre, _, (lo_price, hi_price), (lo_pages, hi_pages) = genres.draw(rng)
        if genre in ("Science", "Cookbook") and rng.random() < 0.6:
            title = f"{rng.choice(_TOPICS)}: {rng.choice(_GUIDE_SUFFIXES)}"
        else:
            pattern = rng.randrange(4)
            adj, noun, noun2 = rng.choice(_ADJECTIVES), rng.choice(_NOUNS), rng.choice(_NOUNS)
            title = (f"The {adj} {noun}", f"{noun} of {noun2}s", f"A {noun} for {rng.choice(_FIRST_NAMES)}",
                     f"{adj} {noun}")[pattern]  # fmt: skip
        published = _day(rng, dt.date(1990, 1, 1), dt.date(2024, 10, 31))
        pages = rng.randint(lo_pages, hi_pages) if rng.random() > 0.06 else None
        price = round(round(rng.uniform(lo_price, hi_price)) - 0.01, 2)
        books.append((i + 1, _isbn13(rng, isbns), title, publisher_pick.draw(rng), genre, languages.draw(rng),
                      published.isoformat(), pages, price))  # fmt: skip
        n_authors = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        chosen: list[int] = []
        while len(chosen) < min(n_authors, len(authors)):
            a = author_pick.draw(rng)
            if a not in chosen:
                chosen.append(a)
        book_authors.extend((i + 1, a, order + 1) for order, a in enumerate(chosen))

    customers = []
    for i in range(_n(1200, scale, 2)):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        city, country = cities.draw(rng)
        email = _email(first, last, i + 1, rng.choice(("mail.example", "post.example", "inbox.example")))
        email = email if rng.random() > 0.15 else None
        birth = (
            _day(rng, dt.date(1945, 1, 1), dt.date(2006, 12, 31)).isoformat() if rng.random() > 0.3 else None
        )
        joined = dt.datetime.combine(
            _day(rng), dt.time(rng.randint(8, 21), rng.randrange(60), rng.randrange(60))
        )
        notes = rng.choice(_NOTES) if rng.random() < 0.04 else None
        customers.append((i + 1, first, last, email, city, country, birth, joined.isoformat(sep=" "),
                          int(rng.random() < 0.35), notes))  # fmt: skip

    # Popularity order is a shuffled list so book_id is not correlated with sales.
    popular = [b[0] for b in books]
    rng.shuffle(popular)
    book_pick = _zipf(popular, 0.85)
    price_of = {b[0]: b[8] for b in books}

    inventory = []
    for store_id, *_ in stores:
        stocked = sorted(set(book_pick.draw(rng) for _ in range(_n(260, scale, 2))))
        for book_id in stocked:
            restocked = _day(rng, dt.date(2023, 1, 1)).isoformat() if rng.random() > 0.1 else None
            inventory.append((store_id, book_id, min(int(rng.paretovariate(1.6)) - 1, 240), restocked))

    store_pick = _Weighted([s[0] for s in stores], [8.0 if s[6] else 1.0 + rng.random() for s in stores])
    customer_pick = _zipf([c[0] for c in customers], 0.7)
    joined_of = {c[0]: c[7][:10] for c in customers}
    sales, items, refunds = [], [], []
    for i in range(_n(3200, scale, 2)):
        store_id = store_pick.draw(rng)
        opened = dt.date.fromisoformat(stores[store_id - 1][4])
        day = _day(rng, max(opened, _START))
        customer = customer_pick.draw(rng) if rng.random() > 0.3 else None
        if customer is not None and joined_of[customer] > day.isoformat():
            day = dt.date.fromisoformat(joined_of[customer])
        at = dt.datetime.combine(day, dt.time(rng.randint(9, 20), rng.randrange(60), rng.randrange(60)))
        status = statuses.draw(rng)
        payment = payments.draw(rng) if status != "pending" else None
        sale_id = i + 1
        sales.append((sale_id, store_id, rng.choice(staff_of_store[store_id]), customer, at.isoformat(sep=" "),
                      payment, status))  # fmt: skip
        n_lines = min(1 + int(rng.expovariate(0.9)), 8)
        for line in range(1, n_lines + 1):
            book_id = book_pick.draw(rng)
            qty = 1 if rng.random() < 0.85 else rng.randint(2, 5)
            discount = rng.choice((0.05, 0.1, 0.15, 0.25)) if rng.random() < 0.18 else None
            items.append((sale_id, line, book_id, qty, price_of[book_id], discount))
            if status == "refunded" and (line == 1 or rng.random() < 0.3):
                paid = round(qty * price_of[book_id] * (1 - (discount or 0.0)), 2)
                when = at + dt.timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8))
                reason = rng.choice(_REFUND_REASONS) if rng.random() > 0.2 else None
                refunds.append((len(refunds) + 1, sale_id, line, when.isoformat(sep=" "), paid, reason))

    reviews = []
    for i in range(_n(900, scale, 2)):
        book_id = book_pick.draw(rng)
        rating = rng.choices((1, 2, 3, 4, 5), weights=(4, 6, 15, 35, 40))[0]
        text = rng.choice(_REVIEW_PHRASES) if rng.random() < 0.45 else None
        votes = int(rng.paretovariate(1.3)) - 1 if rng.random() > 0.25 else None
        reviews.append((i + 1, book_id, customer_pick.draw(rng), rating, text, _day(rng, dt.date(2016, 1, 1)).isoformat(),
                        votes))  # fmt: skip

    return {
        "store": stores,
        "employee": employees,
        "publisher": publishers,
        "author": authors,
        "book": books,
        "book_author": book_authors,
        "customer": customers,
        "inventory": inventory,
        "sale": sales,
        "sale_item": items,
        "refund": refunds,
        "review": reviews,
    }


#: The query ``sqlfoundry quickstart`` runs: best-selling genres by units and revenue.
QUICKSTART_SQL = """
SELECT b.genre, SUM(si.quantity) AS units_sold, ROUND(SUM(si.quantity * si.unit_price), 2) AS revenue
FROM sale_item AS si JOIN book AS b ON si.book_id = b.book_id
GROUP BY b.genre ORDER BY units_sold DESC, b.genre LIMIT 5
""".strip()
