"""Human names for database identifiers: split snake_case/camelCase/ALLCAPS, expand abbreviations,
inflect nouns (singular/plural) and pick articles, for the rule-based question realizer.

Pure functions over strings plus two helpers over schema objects that prefer ``natural_name``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..db.schema_model import Column, Table

# --- splitting -----------------------------------------------------------------------------------
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+[a-z](?![a-z])|\d+")
#: tokens kept whole before the camel/digit split (unit suffixes and names with digits)
_KEEP_WHOLE = {"m2": "m²", "km2": "km²", "ft2": "ft²", "m3": "m³", "mp3": "MP3", "mp4": "MP4", "3d": "3D"}

#: word-level abbreviations (lowercase) and what they stand for
ABBREVIATIONS: dict[str, str] = {
    "acct": "account", "addr": "address", "amt": "amount", "avg": "average", "bal": "balance",
    "cnt": "count", "ctry": "country", "cust": "customer", "desc": "description", "descr": "description",
    "dept": "department", "dest": "destination", "dob": "date of birth", "doc": "document", "dt": "date",
    "emp": "employee", "fname": "first name", "indep": "independence", "stu": "student", "hr": "hour", "info": "information", "lname": "last name",
    "lat": "latitude", "lng": "longitude", "loc": "location", "max": "maximum", "mgr": "manager",
    "min": "minimum", "msg": "message", "nbr": "number", "no": "number", "num": "number",
    "org": "organization", "pct": "percent", "perc": "percent", "pos": "position", "prod": "product",
    "pwd": "password", "qty": "quantity", "ref": "reference", "seq": "sequence", "src": "source",
    "tel": "telephone", "temp": "temperature", "tot": "total", "yr": "year", "yrs": "years",
}  # fmt: skip
#: words written in capitals
ACRONYMS = {
    "id": "ID", "ids": "IDs", "isbn": "ISBN", "url": "URL", "gpa": "GPA", "ssn": "SSN", "gnp": "GNP",
    "gdp": "GDP", "ip": "IP", "uri": "URI", "sku": "SKU", "vat": "VAT", "usd": "USD", "eur": "EUR",
    "api": "API", "mpg": "MPG", "ioc": "IOC", "uid": "UID", "uuid": "UUID", "sms": "SMS", "pdf": "PDF",
    "html": "HTML", "json": "JSON", "cpu": "CPU", "gps": "GPS", "ceo": "CEO", "cfo": "CFO", "usa": "USA",
    "uk": "UK", "eu": "EU", "tv": "TV", "dvd": "DVD", "cd": "CD", "faq": "FAQ", "hiv": "HIV",
}  # fmt: skip


@lru_cache(maxsize=8192)
def split_words(identifier: str) -> tuple[str, ...]:
    """The lowercase words of an identifier: ``SongReleaseYear`` → ``('song', 'release', 'year')``.

    Underscores, hyphens, spaces and dots separate words; so do case changes (``HTTPServer`` →
    ``http server``) and letter/digit boundaries (``line1`` → ``line 1``).
    """
    words: list[str] = []
    for chunk in re.split(r"[_\-\s.]+", identifier.strip()):
        if not chunk:
            continue
        if chunk.lower() in _KEEP_WHOLE:
            words.append(chunk.lower())
            continue
        parts = _CAMEL.findall(chunk)
        words.extend(p.lower() for p in parts if p)
    return tuple(words)


def _word_form(word: str) -> str:
    if word in _KEEP_WHOLE:
        return _KEEP_WHOLE[word]
    if word in ACRONYMS:
        return ACRONYMS[word]
    return ABBREVIATIONS.get(word, word)


@lru_cache(maxsize=8192)
def humanize(identifier: str) -> str:
    """A readable phrase for an identifier: ``cust_addr_id`` → ``customer address ID``.

    Abbreviations are expanded (``qty`` → ``quantity``, ``FlightNo`` → ``flight number``) and acronyms
    capitalized (``id`` → ``ID``); everything else is lowercase.
    """
    words = split_words(identifier)
    if not words:
        return identifier
    if (
        len(words) >= 2
        and words[-1] in _PARTICIPLE_SUFFIXES
        and words[-2].endswith(("ed", "en", "ld", "ght"))
    ):
        # sold_at → time sold, opened_on → date opened
        words = (_PARTICIPLE_SUFFIXES[words[-1]], *words[:-1])
    # "no" is "number" only after another word (``line_no``), never alone or first (``no_show``)
    out = [w if (w == "no" and i == 0) else _word_form(w) for i, w in enumerate(words)]
    return " ".join(out)


@lru_cache(maxsize=8192)
def normalize_phrase(phrase: str) -> str:
    """Tidy a human-written name (Spider's ``column_names``): lowercase, acronyms and abbreviations fixed."""
    words = phrase.strip().split()
    return " ".join(_word_form(w.lower()) if not _has_upper_inside(w) else w for w in words)


def _has_upper_inside(word: str) -> bool:
    return any(c.isupper() for c in word[1:])


_PARTICIPLE_SUFFIXES = {"at": "time", "on": "date"}
_GROUP_NOUNS = {"staff", "personnel", "police", "faculty"}
#: countable nouns whose plural is the same word ("one series, two series")
_INVARIANT = {"series", "species", "aircraft", "sheep", "deer", "fish", "offspring", "means", "headquarters"}


# --- inflection ----------------------------------------------------------------------------------
_IRREGULAR_PLURALS = {
    "person": "people", "child": "children", "man": "men", "woman": "women", "foot": "feet",
    "tooth": "teeth", "mouse": "mice", "goose": "geese", "ox": "oxen", "criterion": "criteria",
    "phenomenon": "phenomena", "datum": "data", "medium": "media", "curriculum": "curricula",
    "alumnus": "alumni", "cactus": "cacti", "radius": "radii", "stimulus": "stimuli", "index": "indices",
    "appendix": "appendices", "matrix": "matrices", "vertex": "vertices", "leaf": "leaves",
    "life": "lives", "wife": "wives", "knife": "knives", "half": "halves", "shelf": "shelves",
    "wolf": "wolves", "thief": "thieves", "self": "selves", "calf": "calves", "loaf": "loaves",
    "hero": "heroes", "potato": "potatoes", "tomato": "tomatoes", "echo": "echoes", "veto": "vetoes",
    "torpedo": "torpedoes", "cargo": "cargoes", "quiz": "quizzes", "die": "dice",
    "salesperson": "salespeople", "chairman": "chairmen", "freshman": "freshmen",
}  # fmt: skip
_IRREGULAR_SINGULARS = {v: k for k, v in _IRREGULAR_PLURALS.items()}
_IRREGULAR_SINGULARS.update({"indexes": "index", "cookies": "cookie", "movies": "movie", "pies": "pie",
                             "ties": "tie", "lies": "lie", "calories": "calorie", "zombies": "zombie",
                             "rookies": "rookie", "selfies": "selfie", "brownies": "brownie",
                             "aunties": "auntie", "genies": "genie", "shoes": "shoe", "toes": "toe",
                             "canoes": "canoe", "oboes": "oboe", "hoes": "hoe", "foes": "foe",
                             "caches": "cache", "niches": "niche", "avalanches": "avalanche",
                             "moustaches": "moustache", "headaches": "headache", "axes": "axis",
                             "bases": "base", "doses": "dose", "vases": "vase", "phases": "phase",
                             "cases": "case", "purchases": "purchase", "databases": "database",
                             "releases": "release", "licenses": "license", "responses": "response",
                             "expenses": "expense", "courses": "course", "horses": "horse",
                             "nurses": "nurse", "verses": "verse", "purses": "purse", "houses": "house",
                             "warehouses": "warehouse", "causes": "cause", "clauses": "clause",
                             "pauses": "pause", "analyses": "analysis", "diagnoses": "diagnosis",
                             "theses": "thesis", "crises": "crisis", "hypotheses": "hypothesis",
                             "synopses": "synopsis", "emphases": "emphasis"})  # fmt: skip
#: words that are the same in both numbers (or have no useful plural)
UNCOUNTABLE = {
    "information", "equipment", "data", "staff", "series", "species", "news", "software", "hardware",
    "personnel", "music", "furniture", "luggage", "baggage", "feedback", "advice", "research", "sheep",
    "deer", "fish", "aircraft", "offspring", "police", "media", "metadata", "inventory", "evidence",
    "money", "rice", "weather", "traffic", "mail", "physics", "economics", "mathematics", "politics",
    "athletics", "statistics", "ethics", "electronics", "logistics", "gymnastics", "headquarters",
    "means", "crossroads", "whereabouts", "earnings", "savings", "clothing", "attendance", "shipping",
    "housing", "funding", "seating", "rent", "revenue", "goods", "premises", "thanks",
}  # fmt: skip
#: uncountable nouns ending in s that still take a singular verb ("the news is")
_SINGULAR_UNCOUNTABLE = {"news", "series", "species", "means", "headquarters", "crossroads"}
#: prepositions after which a compound's head noun stops: "singer in concert" → "singers in concert"
_PREPOSITIONS = {"in", "of", "for", "on", "at", "to", "by", "with", "from", "per", "about", "under", "over"}
_SINGULAR_S_ENDINGS = ("ss", "us", "is", "os", "as")
_ED_NOUNS = {
    "seed",
    "bed",
    "speed",
    "need",
    "breed",
    "feed",
    "shed",
    "reed",
    "steed",
    "weed",
    "deed",
    "creed",
}


def _split_head(phrase: str) -> tuple[str, str, str]:
    """(before, head word, after) of a noun phrase: the head is the last word before a preposition."""
    words = phrase.split(" ")
    head = len(words) - 1
    while head > 0 and not words[head][:1].isalpha():
        head -= 1  # "transactions 1k": inflect the last word that is a word
    for i, w in enumerate(words):
        if i > 0 and w.lower() in _PREPOSITIONS:
            head = i - 1
            break
    before = " ".join(words[:head])
    after = " ".join(words[head + 1 :])
    return before, words[head], after


def _join_head(before: str, head: str, after: str) -> str:
    return " ".join(p for p in (before, head, after) if p)


def _match_case(word: str, template: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


@lru_cache(maxsize=8192)
def singular_word(word: str) -> str:
    """The singular of one English noun (returned unchanged when it already is singular)."""
    low = word.lower()
    if not low or not low[-1].isalpha():
        return word
    if word.isupper() and len(word) > 1:
        if low.endswith("s") and low[:-1] in ACRONYMS:
            return word[:-1]
        return word
    if low in UNCOUNTABLE:
        return word
    if low in _IRREGULAR_SINGULARS:
        return _match_case(_IRREGULAR_SINGULARS[low], word)
    if low in _IRREGULAR_PLURALS or not low.endswith("s") or low.endswith(_SINGULAR_S_ENDINGS):
        return word
    if low.endswith("ies") and len(low) > 4:
        return word[:-3] + "y"
    if low.endswith("ves"):
        return word[:-1]
    if low.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if low.endswith("uses"):
        stem = low[:-2]
        return word[:-2] if stem.endswith("us") and not stem.endswith(("ous", "aus")) else word[:-1]
    if low.endswith("oes") and len(low) > 4:
        return word[:-2]
    return word[:-1]


@lru_cache(maxsize=8192)
def plural_word(word: str) -> str:
    """The plural of one English noun (returned unchanged when it already is plural or uncountable)."""
    low = word.lower()
    if not low or not low[-1].isalpha():
        return word
    if word.isupper() and len(word) > 1:
        return word + "s"
    if low in UNCOUNTABLE:
        return word
    if low in _IRREGULAR_PLURALS:
        return _match_case(_IRREGULAR_PLURALS[low], word)
    if low in _IRREGULAR_SINGULARS or singular_word(word) != word:
        return word  # already plural
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return word[:-1] + "ies"
    if low.endswith("is") and len(low) > 3:
        return word[:-2] + "es"
    if low.endswith(("s", "sh", "ch", "x", "z")):
        return word + ("zes" if low.endswith("z") and not low.endswith("zz") else "es")
    return word + "s"


def is_plural(phrase: str) -> bool:
    """True when the head noun of ``phrase`` is a plural form (``books``, ``people``, ``singers in concert``)."""
    _, head, _ = _split_head(phrase)
    low = head.lower()
    if low in UNCOUNTABLE:
        return low.endswith("s") and not low.endswith("ics") and low not in _SINGULAR_UNCOUNTABLE
    return singular_word(head) != head


def pluralize(phrase: str) -> str:
    """Plural of a noun phrase, inflecting its head: ``category`` → ``categories``, ``singer in concert``
    → ``singers in concert``; already-plural phrases are returned unchanged."""
    if not phrase:
        return phrase
    before, head, after = _split_head(phrase)
    if head.lower().endswith("ed") and head.lower() not in _ED_NOUNS and len(head) > 3:
        # a participle, not a noun: "date arrived" → "dates arrived", "directed by" stays
        if before and not after:
            b_before, b_head, _ = _split_head(before)
            return _join_head(_join_head(b_before, plural_word(b_head), ""), head, "")
        return phrase
    return _join_head(before, plural_word(head), after)


def singularize(phrase: str) -> str:
    """Singular of a noun phrase: ``addresses`` → ``address``, ``people`` → ``person``."""
    if not phrase:
        return phrase
    before, head, after = _split_head(phrase)
    return _join_head(before, singular_word(head), after)


# --- articles ------------------------------------------------------------------------------------
_AN_LETTERS = set("aefhilmnorsx")  # letters whose spoken name starts with a vowel sound
_YOU_SOUND = ("uni", "use", "usu", "uti", "ure", "uro", "eu", "ewe", "one", "once", "ubiq", "uk")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir")


def article(phrase: str) -> str:
    """``a`` or ``an`` for the phrase, by its first sound (``an hour``, ``a user``, ``an ID``)."""
    word = phrase.strip().split(" ")[0] if phrase.strip() else ""
    if not word:
        return "a"
    low = word.lower()
    if word[0].isdigit():
        return "an" if low.startswith(("8", "11", "18")) and (len(low) in (1, 2, 4, 5) or "," in low) else "a"
    if len(word) > 1 and word.isupper() or low in ACRONYMS:
        return "an" if low[0] in _AN_LETTERS else "a"
    if low.startswith(_SILENT_H):
        return "an"
    if low[0] in "aeiou":
        return "a" if low.startswith(_YOU_SOUND) else "an"
    return "a"


def with_article(phrase: str) -> str:
    """The phrase after ``a``/``an``: ``an author``, ``a unit price``."""
    return f"{article(phrase)} {phrase}"


# --- schema objects ------------------------------------------------------------------------------
def column_name(column: Column) -> str:
    """The human name of a column: its ``natural_name`` (tidied) when set, else its humanized identifier."""
    if column.natural_name and not _squashed(column.natural_name, column.name):
        return normalize_phrase(column.natural_name)
    return humanize(column.name)


def _squashed(natural: str, identifier: str) -> bool:
    """True when a natural name only lowercases the identifier and so hides its word breaks."""
    return " " not in natural.strip() and len(split_words(identifier)) > 1


def table_noun(table: Table, plural: bool = False) -> str:
    """The noun for one row of ``table`` (``book``, ``person``), or for many (``books``, ``people``).

    Prefers the table's ``natural_name``; a name that starts with a verb (``has_pet``) becomes
    ``has pet record``.
    """
    if table.natural_name and not _squashed(table.natural_name, table.name):
        base = normalize_phrase(table.natural_name)
    else:
        base = humanize(table.name)
    first = base.split(" ")[0].lower() if base else ""
    if first in ("has", "have", "is", "are", "was") and len(base.split(" ")) > 1:
        base = f"{base} record"
    singular = singularize(base)
    before, head, after = _split_head(singular)
    if head.lower() in UNCOUNTABLE and head.lower() not in _INVARIANT:
        # rows of "inventory" or "staff" need a countable noun: "inventory record", "staff member"
        singular = _join_head(
            before, f"{head} {'member' if head.lower() in _GROUP_NOUNS else 'record'}", after
        )
    return pluralize(singular) if plural else singular
