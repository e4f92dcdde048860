"""How customer text is made searchable: folded (case and accents dropped), cut into the
fields that rank (exact keys, word starts) and the words a short term is matched against.

The same rules exist twice: here in Python (SQLite calls these functions from its
triggers, and the query's terms go through ``fold``) and as SQL functions for PostgreSQL,
generated from the same tables by ``postgres_functions`` so both backends agree.
"""
from __future__ import annotations

import re
import unicodedata

# Letters with a base letter that NFKD can't reach, and punctuation a typist can't type.
_SPECIAL = {
    "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ĳ": "ij", "Ĳ": "ij",
    "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o",
    "ł": "l", "Ł": "l", "ħ": "h", "Ħ": "h", "ı": "i", "İ": "i", "ŀ": "l", "Ŀ": "l",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u00a0": " ", "\u202f": " ", "\u205f": " ", "\u3000": " ", "\u2028": " ", "\u2029": " ",
    **{chr(cp): " " for cp in range(0x2000, 0x200B)},
}
# Latin-1 Supplement, Latin Extended-A/B and Latin Extended Additional (Vietnamese).
_LATIN_RANGES = (range(0x00C0, 0x0250), range(0x1E00, 0x1F00))
# Combining accents, as in text typed in decomposed form: dropped.
_COMBINING = range(0x0300, 0x0370)


def _fold_table() -> dict[str, str]:
    table: dict[str, str] = dict(_SPECIAL)
    for block in _LATIN_RANGES:
        for cp in block:
            ch = chr(cp)
            if ch in table:
                continue
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            if base and base != ch and base.isascii() and base.isalpha():
                table[ch] = base.lower()
    for cp in _COMBINING:
        table[chr(cp)] = ""
    # Invisible format characters (zero-width spaces and joiners, direction marks): dropped,
    # so a pasted name matches its typed twin and a word is never cut in two by one.
    for cp in (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), 0xFEFF, 0x00AD):
        table[chr(cp)] = ""
    return table


FOLD_TABLE = _fold_table()
_TRANSLATE = str.maketrans(FOLD_TABLE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _translate_run(match: re.Match[str]) -> str:
    return match.group().translate(_TRANSLATE)

# Field and key separators inside the folded document (never in a term: terms are split on
# white space and control characters are refused in names).
NAME_END = "\t"
KEY_END = "\n"
# Each word in the words column is preceded by two spaces, so a one-letter word start is a
# three-character string a trigram index can look up.
WORD_MARK = "  "
_ADDRESS_SPLIT = re.compile(r"[,; \t\n\r\f\v]+")
# Word parts: runs of ASCII letters and digits, or any non-ASCII character (after folding
# those are letters of other scripts); the same class in PostgreSQL's regular expressions.
_PART = re.compile(r"[a-z0-9\u0080-\U0010ffff]+")
_PART_SPLIT_SQL = r"[^a-z0-9\u0080-\U0010FFFF]+"


def fold(text: str | None) -> str:
    """Lower case without accents: 'Zoë Müller' -> 'zoe muller', 'Straße' -> 'strasse'."""
    if not text:
        return ""
    # Most text is ASCII: nothing to translate (and translating is the slow part).
    if text.isascii():
        return text.lower()
    return _NON_ASCII.sub(_translate_run, text).lower()


def search_doc(name: str, company: str, reference: str, username: str | None, primary_email: str) -> str:
    """The folded text a term of three or more characters is found in, anywhere:
    'name<TAB>company<LF>key<LF>key<LF>...', so '<LF>term<LF>' is an exact key."""
    # One fold of everything (it runs for every customer a bulk load writes), then the keys.
    folded = fold(f"{name or ''}{NAME_END}{company or ''}{KEY_END}{reference}{KEY_END}"
                  f"{username + KEY_END if username else ''}{primary_email or ''}")
    head, _, addresses = folded.rpartition(KEY_END)
    keys = [part for part in _ADDRESS_SPLIT.split(addresses) if part]
    return head + KEY_END + "".join(k + KEY_END for k in keys)


def search_keys(doc: str) -> str:
    """The whole keys of a document (reference, username, addresses), separated by spaces."""
    return " ".join(doc.partition(KEY_END)[2].split(KEY_END)).strip()


def search_parts(doc: str) -> str:
    """The letter-and-digit runs of a document, each once, separated by spaces (the word
    index's tokens: a start of one of them is a word start for a term without punctuation)."""
    return " ".join(sorted(set(_PART.findall(doc))))


def search_words(doc: str) -> str:
    """Every word start of a document: its whitespace-separated words (keys whole, so
    'ada.l' is a start of 'ada.lovelace@x.example') and their letter-and-digit parts,
    each after WORD_MARK, in code point order."""
    words = set(doc.replace(NAME_END, " ").replace(KEY_END, " ").split(" "))
    words.update(_PART.findall(doc))
    words.discard("")
    return "".join(WORD_MARK + w for w in sorted(words)) + " "


def terms_of(text: str | None, *, most: int = 8, longest: int = 100) -> tuple[str, ...]:
    """The folded words of a query, each kept once, in the order typed; a word of punctuation
    alone ('-', '@') says nothing about a customer and is left out."""
    seen: dict[str, None] = {}
    for word in fold(text).split()[:most]:
        if _PART.search(word):
            seen.setdefault(word[:longest], None)
    return tuple(seen)


def parts_of(term: str) -> list[str]:
    """The letter-and-digit runs of a term ('katherine' and 'so' of "katherine.so")."""
    return _PART.findall(term)


def is_part(term: str) -> bool:
    """True when the term is one letter-and-digit run (no punctuation)."""
    return _PART.fullmatch(term) is not None


def highlight_spans(text: str, terms: tuple[str, ...], *, short: int = 2) -> list[tuple[int, int]]:
    """Where ``terms`` (folded, as in SearchPage.terms) occur in ``text`` as shown, as
    (start, end) character ranges, merged: a term of ``short`` characters or fewer only at a
    word start, as the search matched it."""
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for piece in fold(ch):
            folded.append(piece)
            origin.append(index)
    flat = "".join(folded)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = flat.find(term)
        while start != -1:
            at_word_start = start == 0 or not flat[start - 1].isalnum()
            if len(term) > short or at_word_start:
                spans.append((origin[start], origin[start + len(term) - 1] + 1))
            start = flat.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ASCII letters, digits and the punctuation of addresses, first in translate()'s list: it
# looks each character up from the start of the list, and a name is mostly ASCII.
_ASCII_FIRST = "eaoinrstlcdumhpgybfkwvjzxq.@ 0123456789-_'EAOINRSTLCDUMHPGYBFKWVJZXQ"


def _postgres_fold_expression(value: str) -> str:
    """FOLD_TABLE as one SQL expression over ``value`` (text with at least one non-ASCII character)."""
    multi = {k: v for k, v in FOLD_TABLE.items() if len(v) > 1}
    single = {k: v for k, v in FOLD_TABLE.items() if len(v) == 1}
    dropped = [k for k, v in FOLD_TABLE.items() if v == ""]
    replaced = value
    for source, target in sorted(multi.items()):
        replaced = f"replace({replaced}, {_sql_literal(source)}, {_sql_literal(target)})"
    # The chain of replace() calls only when one of its letters is there (one scan, not 24).
    replaced = f"CASE WHEN {value} ~ {_sql_literal('[' + ''.join(sorted(multi)) + ']')} THEN {replaced} ELSE {value} END"
    sources = _ASCII_FIRST + "".join(single) + "".join(dropped)
    targets = _ASCII_FIRST.lower() + "".join(single.values())
    return f"lower(translate({replaced}, {_sql_literal(sources)}, {_sql_literal(targets)}))"


def postgres_functions() -> list[str]:
    """The folding rules above as immutable SQL functions (usable in index expressions).
    PL/pgSQL rather than SQL: an ASCII text (most of it) is only lower-cased, and a bulk
    refresh folds every customer (0.03 ms a field as one SQL expression, 0.001 ms so)."""
    return [
        f"""CREATE OR REPLACE FUNCTION portal_fold(value text) RETURNS text
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
            AS $fold$
            BEGIN
                IF octet_length(value) = length(value) THEN
                    RETURN lower(value);
                END IF;
                RETURN {_postgres_fold_expression("value")};
            END
            $fold$""",
        r"""CREATE OR REPLACE FUNCTION portal_search_doc(name text, company text, reference text,
                                                         username text, primary_email text) RETURNS text
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
            AS $doc$
            DECLARE
                keys text := '';
                part text;
            BEGIN
                FOREACH part IN ARRAY regexp_split_to_array(portal_fold(coalesce(primary_email, '')),
                                                            '[,; \t\n\r\f\v]+') LOOP
                    IF part <> '' THEN
                        keys := keys || part || chr(10);
                    END IF;
                END LOOP;
                RETURN portal_fold(coalesce(name, '')) || chr(9) || portal_fold(coalesce(company, '')) || chr(10)
                       || portal_fold(reference) || chr(10)
                       || coalesce(portal_fold(username) || chr(10), '') || keys;
            END
            $doc$""",
        f"""CREATE OR REPLACE FUNCTION portal_search_words(doc text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $words$
            SELECT coalesce(string_agg('  ' || word, '' ORDER BY word COLLATE "C"), '') || ' '
            FROM (SELECT regexp_split_to_table(doc, '[ \\t\\n]+') AS word
                  UNION
                  SELECT regexp_split_to_table(doc, '{_PART_SPLIT_SQL}')) AS words
            WHERE word <> ''
            $words$""",
    ]
