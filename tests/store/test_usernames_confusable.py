"""Rule 1 against look-alikes: one script per username, and usernames that look alike (TS #39
skeleton, case, width, accents) share one key, which the database's UNIQUE index holds."""
import importlib.util
import logging
import unicodedata

import pytest
from peewee import IntegrityError
from playhouse.migrations import Runner

from store import db
from store.customers import add_customer
from store.db import MIGRATIONS_DIR
from store.errors import InvalidUsername, UsernameTaken
from store.models import PortalLogin
from store.panel import set_username
from store.usernames import (
    _prototypes, clean_username, legacy_username_key, login_lookup_keys, username_key,
)

from .conftest import AGENT, column, count

CYRILLIC_A = "\u0430"
LOOK_ALIKES_OF_ADA = [
    "ADA.LOVELACE",
    "Ada.Lovelace",
    "\uff41\uff44\uff41.\uff4c\uff4f\uff56\uff45\uff4c\uff41\uff43\uff45",  # full-width
    f"{CYRILLIC_A}da.lovelace",
    f"ad{CYRILLIC_A}.lovelace",
    "Ada.Lovelace\u0307",          # a combining dot: ė
    "Ada.L\u0307ovelace",          # a dot on the l, which no letter holds
    "ada.Iovelace".casefold(),     # 'i' is not 'l': distinct (see the next test)
]


class TestTheKey:
    @pytest.mark.parametrize("alike", [n for n in LOOK_ALIKES_OF_ADA if n != "ada.iovelace"])
    def test_look_alikes_share_one_key(self, alike):
        assert username_key(alike) == username_key("ada.lovelace")

    @pytest.mark.parametrize("other", ["ada.iovelace", "ada.lovelace2", "grace.hopper", "ada_lovelace"])
    def test_different_names_keep_different_keys(self, other):
        assert username_key(other) != username_key("ada.lovelace")

    def test_within_latin_look_alikes_share_a_key(self):
        """TS #39 maps 'rn' and 'm', '0' and 'o', '1' and 'l' together."""
        assert username_key("mary") == username_key("rnary")
        assert username_key("b0b") == username_key("bob") == username_key("BOB")
        assert username_key("ada1") == username_key("adal")

    def test_a_whole_script_look_alike_shares_the_key(self):
        """Cyrillic 'соса' is one script, so the script rule lets it through; the key stops it."""
        cyrillic = "\u0441\u043e\u0441\u0430"
        assert clean_username(cyrillic) == cyrillic
        assert username_key(cyrillic) == username_key("coca")

    def test_accents_are_left_out_of_the_key_in_latin_greek_and_cyrillic(self):
        """Told by phone, 'josé' and 'jose' are one name; Devanagari vowel signs stay."""
        assert username_key("José.García") == username_key("jose.garcia")
        assert username_key("Nguyễn") == username_key("nguyen")
        assert username_key("मनोज") != username_key("मनज")

    def test_a_key_is_its_own_key_for_every_confusable_character(self):
        """Sign-in looks a stored key up as typed text: the key of a key must be itself."""
        for ch in _prototypes():
            key = username_key(ch)
            assert username_key(key) == key, ch

    def test_the_key_never_raises_and_stays_fast_on_hostile_input(self):
        """Sign-in and the prompts key whatever was typed."""
        for typed in ("", "\x00\x85\u202e", "x" * 10_000, "\u0301" * 10_000, "\ud800"):
            username_key(typed)

    def test_nfd_and_nfc_typing_give_one_key(self):
        name = "José.García"
        assert username_key(unicodedata.normalize("NFD", name)) == username_key(unicodedata.normalize("NFC", name))


class TestTheScriptRule:
    @pytest.mark.parametrize("name, shown", [
        (f"{CYRILLIC_A}da.lovelace", "Cyrillic and Latin"),
        (f"ad{CYRILLIC_A}.lovelace", "Latin and Cyrillic"),
        ("\u03bfmega.user", "Greek and Latin"),
        ("paypal\u0570", "Latin and Armenian"),
    ])
    def test_mixed_scripts_are_refused_naming_them(self, name, shown):
        with pytest.raises(InvalidUsername) as caught:
            clean_username(name)
        assert caught.value.message == f"This username mixes alphabets ({shown}); use one."

    @pytest.mark.parametrize("name", [
        "ada.lovelace", "José.García", "Ελένη", "Алёна.К", "田中たなか", "田中.taro", "김민수.kim",
        "मनोज", "ก้อง", "Nguyễn.Thị", "o'brien+bills@x",
    ])
    def test_one_script_with_digits_and_symbols_or_a_cjk_mix_is_accepted(self, name):
        """TS #39 "highly restrictive": one script, or Latin with Han and kana or Hangul."""
        assert clean_username(name) == unicodedata.normalize("NFKC", name)

    @pytest.mark.parametrize("name", ["Ada\u0301\u0301", "ad\u0301\u0302\u0303a", "\u0301ada"])
    def test_stacked_or_loose_marks_are_refused(self, name):
        with pytest.raises(InvalidUsername) as caught:
            clean_username(name)
        assert "can't stack accents or marks" in caught.value.message


class TestTheStoreRefusesLookAlikes:
    @pytest.fixture
    def ada_and_bob(self, store_db):
        ada = add_customer(name="Ada Lovelace", primary_email="ada@x.example", actor=AGENT).reference
        bob = add_customer(name="Bob", primary_email="bob@x.example", actor=AGENT).reference
        set_username(ada, "ada.lovelace", expected_version=None, actor=AGENT)
        return ada, bob

    @pytest.mark.parametrize("alike", [n for n in LOOK_ALIKES_OF_ADA if n != "ada.iovelace"
                                       and CYRILLIC_A not in n] + ["ada.lovelacé"])
    def test_a_look_alike_of_a_taken_username_is_taken(self, ada_and_bob, alike):
        """The store's own "taken" sentence, never naming the customer who holds it."""
        _ada, bob = ada_and_bob
        with pytest.raises(UsernameTaken) as caught:
            set_username(bob, alike, expected_version=None, actor=AGENT)
        assert caught.value.message == "That username is already in use."
        assert count("portal_login") == 1

    def test_a_mixed_script_look_alike_is_refused_before_the_key(self, ada_and_bob):
        _ada, bob = ada_and_bob
        with pytest.raises(InvalidUsername) as caught:
            set_username(bob, f"{CYRILLIC_A}da.lovelace", expected_version=None, actor=AGENT)
        assert "mixes alphabets (Cyrillic and Latin)" in caught.value.message
        assert count("portal_login") == 1

    def test_a_whole_cyrillic_look_alike_is_taken(self, store_db):
        coca = add_customer(name="Coca", primary_email="c@x.example", actor=AGENT).reference
        other = add_customer(name="Other", primary_email="o@x.example", actor=AGENT).reference
        set_username(coca, "coca", expected_version=None, actor=AGENT)
        with pytest.raises(UsernameTaken):
            set_username(other, "\u0441\u043e\u0441\u0430", expected_version=None, actor=AGENT)

    def test_the_unique_index_itself_refuses_a_second_row_with_the_key(self, ada_and_bob):
        """A race between two consoles has one winner: the database decides."""
        _ada, bob = ada_and_bob
        bob_id = column("customer", "id", "reference = ?", (bob,))[0]
        with pytest.raises(IntegrityError):
            with db.database.atomic():
                PortalLogin.create(customer=bob_id, username="ADA.LOVELACE", username_key=username_key("ADA.LOVELACE"),
                                   created_at=PortalLogin.get().created_at)

    def test_the_stored_key_is_the_skeleton(self, ada_and_bob):
        assert column("portal_login", "username_key") == [username_key("ada.lovelace")]


def _migration_0003():
    path = MIGRATIONS_DIR / "0003_username_skeleton.py"
    spec = importlib.util.spec_from_file_location("m0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _old_login(reference: str, username: str, created: str) -> None:
    """A login as the store wrote it before 0003: its key only NFKC and case-folded."""
    customer_id = column("customer", "id", "reference = ?", (reference,))[0]
    p = db.database.param
    db.database.execute_sql(
        f"INSERT INTO portal_login (customer_id, username, username_key, created_at) VALUES ({p}, {p}, {p}, {p})",
        (customer_id, username, legacy_username_key(username), created))


class TestMigration0003:
    def test_every_key_becomes_the_skeleton_and_colliding_logins_keep_working(self, store_db, caplog):
        """Older logins get the look-alike key; a newer look-alike keeps its previous key (sign-in
        tries it first); one whose previous key is now the older's key is parked and logged."""
        refs = [add_customer(name=f"Customer {i}", primary_email=f"c{i}@x.example", actor=AGENT).reference
                for i in range(5)]
        _old_login(refs[0], "ada.lovelace", "2026-01-01 00:00:00")
        _old_login(refs[1], f"{CYRILLIC_A}da.lovelace", "2026-02-01 00:00:00")
        _old_login(refs[2], "mary", "2026-01-01 00:00:00")
        _old_login(refs[3], "rnary", "2026-03-01 00:00:00")
        _old_login(refs[4], "José", "2026-01-01 00:00:00")
        caplog.set_level(logging.INFO, logger="store.migrations")
        with db.database.atomic():
            _migration_0003().up(None, db.database)
        keys = dict(zip(column("portal_login", "username"), column("portal_login", "username_key")))
        assert keys["ada.lovelace"] == username_key("ada.lovelace")
        assert keys[f"{CYRILLIC_A}da.lovelace"] == legacy_username_key(f"{CYRILLIC_A}da.lovelace")
        assert keys["mary"] == username_key("mary") == "rnary"
        assert keys["rnary"].startswith("~0003~")
        assert keys["José"] == "jose"
        # The newer look-alike is found by its own typing, the older by its own.
        for typed, owner in ((f"{CYRILLIC_A}da.lovelace", f"{CYRILLIC_A}da.lovelace"), ("ada.lovelace", "ada.lovelace")):
            found = [k for k in login_lookup_keys(typed) if k in keys.values()]
            assert [name for name, key in keys.items() if key == found[0]] == [owner]
        said = caplog.text
        assert f"{CYRILLIC_A}da.lovelace" in said and refs[1] in said and refs[0] in said and "still signs in" in said
        assert "'rnary'" in said and f"gives customer {refs[3]} a new portal username" in said
        # A new look-alike of either is refused.
        with pytest.raises(UsernameTaken):
            set_username(refs[4], "ADA.lovelace", expected_version=None, actor=AGENT)

    def test_down_restores_the_previous_keys(self, store_db):
        ref = add_customer(name="Mary", primary_email="m@x.example", actor=AGENT).reference
        set_username(ref, "Mary", expected_version=None, actor=AGENT)
        with db.database.atomic():
            _migration_0003().down(None, db.database)
        assert column("portal_login", "username_key") == ["mary"]
        with db.database.atomic():
            _migration_0003().up(None, db.database)
        assert column("portal_login", "username_key") == ["rnary"]

    def test_the_runner_applies_it_to_a_database_made_before_it(self, tmp_path, fixed_clock):
        """The real path: a SQLite file at 0002 with old keys, then the store opens it."""
        url = f"sqlite:///{tmp_path / 'old.db'}"
        database = db.init(url, migrate=False)
        try:
            Runner(database, str(MIGRATIONS_DIR)).up(target="0002_reference_lower_index")
            database.execute_sql("INSERT INTO customer (reference, name, company, primary_email, version, "
                                 "created_at, updated_at) VALUES ('C000001', 'Mo', '', 'm@x.example', 1, "
                                 "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
            database.execute_sql("INSERT INTO portal_login (customer_id, username, username_key, created_at) "
                                 "VALUES (1, 'Mo.Ma', 'mo.ma', '2026-01-01 00:00:00')")
            applied = db.migrate_schema()
            assert "0003_username_skeleton" in applied
            assert column("portal_login", "username_key") == [username_key("Mo.Ma")] == ["rno.rna"]
        finally:
            db.close()
