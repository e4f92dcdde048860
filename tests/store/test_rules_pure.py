"""The small rule pieces, tested apart: usernames, addresses, passwords, tokens."""
import unicodedata

import pytest
from argon2 import PasswordHasher

from store.addresses import parse_primary_email, require_valid
from store.errors import InvalidPrimaryEmail, InvalidUsername, WeakPassword
from store.passwords import OWN_WORDS_MESSAGE, check_password, hash_password, verify_password
from store.text import refuse_unsafe_characters
from store.tokens import new_token, token_hash, well_formed
from store.usernames import clean_username, username_key


class TestUsernames:
    def test_key_ignores_case_width_and_surrounding_space(self):
        """Rule 1: "Ada", " ada " and full-width "ａｄａ" are one username."""
        assert username_key(clean_username(" Ada.Lovelace ")) == username_key(clean_username("ada.lovelace"))
        assert username_key(clean_username("ＡＤＡ１")) == username_key("ada1")

    def test_clean_keeps_the_typed_case(self):
        """The username shown is what the agent typed, trimmed and normalised."""
        assert clean_username("  Grace.Hopper ") == "Grace.Hopper"

    @pytest.mark.parametrize("bad, words", [
        ("", "Enter a username"),
        ("   ", "Enter a username"),
        ("ab", "at least 3"),
        ("a" * 65, "at most 64"),
        ("ada\nlovelace", "control characters"),
        ("ada\x00", "control characters"),
        ("ada lovelace", "not: space"),
        ("ada<script>", "not: < >"),
    ])
    def test_bad_usernames_are_refused_with_the_reason(self, bad, words):
        """Empty, short, over-long, control characters and odd symbols each get a sentence."""
        with pytest.raises(InvalidUsername) as caught:
            clean_username(bad)
        assert words in caught.value.message
        assert caught.value.field == "username"


class TestPrimaryEmailAddresses:
    def test_commas_semicolons_and_spaces_all_separate(self):
        """Rule 2: every address in the field, whatever separates them."""
        parsed = parse_primary_email("a@x.com, b@y.org;c@z.net  d@w.io e@v.co")
        assert parsed.addresses == ("a@x.com", "b@y.org", "c@z.net", "d@w.io", "e@v.co")
        assert parsed.problem is None

    @pytest.mark.parametrize("field, found", [
        ("tab@example.com\tforged@example.com\nc999999@fake.example", "tab"),
        ("a@x.com\nb@y.org", "line break"),
        ("a@x.com\rb@y.org", "carriage return"),
        ("a@x.com\x85b@y.org", "U+0085"),
        ("a@x.com\x7fb@y.org", "U+007F"),
        ("a@x.com\u2028b@y.org", "U+2028"),
        ("moc.x@a\u202e", "U+202E"),
        ("a@x.com \u2066b@y.org", "U+2066"),
        ("a\u200b@x.com", "U+200B"),
        ("a@x.com\ufeff", "U+FEFF"),
    ])
    def test_control_and_invisible_characters_are_refused_not_taken_as_separators(self, field, found):
        """A tab or line break printed raw forges lines in the console, the CLI and logs; a
        bidi override reorders what the agent reads. Refused with the character named."""
        parsed = parse_primary_email(field)
        assert parsed.addresses == ()
        assert "can't contain line breaks, tabs, control or invisible characters" in parsed.problem
        assert f"(found: {found})" in parsed.problem
        with pytest.raises(InvalidPrimaryEmail):
            require_valid(field)

    def test_international_domains_are_accepted(self):
        """The mailer sends an international domain in its IDNA form: no reason to refuse it."""
        assert parse_primary_email("ada@bücher.example").addresses == ("ada@bücher.example",)

    @pytest.mark.parametrize("field", ['"a b"@example.com', "a(comment)@example.com", "a@[127.0.0.1]"])
    def test_quoted_local_parts_comments_and_literal_hosts_are_refused(self, field):
        assert "is not a valid email address" in parse_primary_email(field).problem

    def test_duplicates_are_kept_once(self):
        """The same address twice (any case) gets one copy of the email."""
        assert parse_primary_email("a@x.com; A@X.com, b@y.org").addresses == ("a@x.com", "b@y.org")

    def test_one_invalid_address_makes_the_field_unusable(self):
        """An invalid address anywhere disables the email actions, naming the address."""
        parsed = parse_primary_email("a@x.com; not-an-address; b@y.org")
        assert parsed.addresses == ()
        assert "'not-an-address' is not a valid email address" in parsed.problem

    def test_empty_field_says_so(self):
        assert parse_primary_email("  ").problem == "The Primary Email Address field is empty."

    def test_header_injection_in_the_field_is_refused(self):
        """CR/LF can't smuggle a Bcc: the line break itself is refused."""
        with pytest.raises(InvalidPrimaryEmail) as caught:
            require_valid("a@x.com\r\nBcc: evil@y.com")
        assert "(found: carriage return)" in caught.value.message
        with pytest.raises(InvalidPrimaryEmail) as caught:
            require_valid("a@x.com Bcc: evil@y.com")
        assert "'Bcc:' is not a valid email address" in caught.value.message

    def test_too_many_addresses_are_refused(self):
        parsed = parse_primary_email(" ".join(f"u{i}@x.com" for i in range(21)))
        assert "more than 20" in parsed.problem


class TestPasswords:
    def test_a_long_passphrase_is_accepted_and_hashed_with_argon2id(self):
        """Rule 7: Argon2id, and the hash verifies only the right password."""
        check_password("violet tractor sings at dawn")
        hashed = hash_password("violet tractor sings at dawn")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "violet tractor sings at dawn")
        assert not verify_password(hashed, "violet tractor sings at dusk")

    @pytest.mark.parametrize("bad, words", [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password1", "very common password"),
        ("qwertyuiop", "top-100 common password"),
    ])
    def test_short_long_and_common_passwords_are_refused_with_a_reason(self, bad, words):
        with pytest.raises(WeakPassword) as caught:
            check_password(bad)
        assert words in caught.value.message

    def test_a_password_made_of_the_customers_own_name_is_refused(self):
        """Guessable from what the attacker knows: username, name, addresses."""
        check_password("Lovelace2026!")  # fine for somebody else
        with pytest.raises(WeakPassword):
            check_password("Lovelace2026!", user_inputs=["ada.lovelace", "Ada Lovelace", "ada@engines.example"])

    ADA = ("ada.lovelace", "Ada Lovelace", "Analytical Engines", "ada@engines.example", "billing@engines.example")

    @pytest.mark.parametrize("password", [
        "adalovelace1", "adalovelace1990", "AdaLovelace2026", "adalovelace!", "analyticalengines1",
        "lovelaceada99", "ada.lovelace#2026", "4d4L0v3l4c3!", "@d@l0v3l@c3", "AdäLovelace77",
        "ANALYTICAL-ENGINES-2026", "billing2026!!", "ada_ada_1990",
    ])
    def test_the_customers_own_words_with_digits_symbols_or_substitutions_are_refused(self, password):
        """Name, company, username or address local part, alone or joined, any case, with
        digits, symbols or a year around them or standing in for letters: said plainly."""
        with pytest.raises(WeakPassword) as caught:
            check_password(password, user_inputs=self.ADA)
        assert caught.value.message == OWN_WORDS_MESSAGE

    def test_another_customers_name_is_refused_too(self):
        with pytest.raises(WeakPassword) as caught:
            check_password("margaretquimby1990", user_inputs=["Margaret Quimby"])
        assert caught.value.message == OWN_WORDS_MESSAGE

    @pytest.mark.parametrize("password", [
        "ada loves violet tractors at dawn", "Lovelace violet tractor sings", "lovelace&violet&tractor&dawn",
    ])
    def test_a_long_passphrase_that_merely_contains_a_name_word_is_accepted(self, password):
        """zxcvbn rates the other words: a name among them doesn't make the phrase guessable."""
        check_password(password, user_inputs=self.ADA)

    @pytest.mark.parametrize("char", ["\x85", "\x9b", "\x00", "\t", "\x7f", "\u202e", "\u2066", "\u200b",
                                      "\ufeff", "\u00ad", "\U000e0041", "\ud800", "\u0378"])
    def test_control_format_surrogate_and_unassigned_characters_are_refused(self, char):
        """C0, C1 (U+0085), DEL, bidi overrides and isolates, zero-width and soft hyphen, tags,
        a lone surrogate, an unassigned code point: every one named in the reason."""
        with pytest.raises(WeakPassword) as caught:
            check_password(f"violet tractor{char} sings at dawn")
        assert "can't contain control or invisible formatting characters" in caught.value.message
        assert f"U+{ord(char):04X}" in caught.value.message

    def test_joiners_and_private_use_characters_stay_allowed(self):
        """ZWNJ/ZWJ shape Persian and Indic words and emoji; U+F8FF is typed by a Mac keyboard."""
        check_password("می‌خواهم violet tractor sings")
        check_password("violet 👩‍💻 tractor sings at dawn")
        check_password("violet tractor  sings at dawn")

    def test_a_passphrase_set_composed_verifies_typed_decomposed_and_back(self):
        """NFC from one keyboard, NFD from another (macOS): one password."""
        composed = unicodedata.normalize("NFC", "crème brûlée façade naïve")
        decomposed = unicodedata.normalize("NFD", composed)
        assert composed != decomposed
        check_password(decomposed)
        assert verify_password(hash_password(composed), decomposed)
        assert verify_password(hash_password(decomposed), composed)
        assert verify_password(hash_password("ｖｉｏｌｅｔ tractor sings"), "violet tractor sings")

    def test_a_hash_made_before_normalisation_still_verifies(self):
        """Old hashes hold the password exactly as typed (here NFD): the typed form is tried
        once when the normalised one fails."""
        decomposed = unicodedata.normalize("NFD", "crème brûlée façade naïve")
        old_hash = PasswordHasher().hash(decomposed)
        assert verify_password(old_hash, decomposed)
        assert not verify_password(old_hash, "creme brulee facade naive")

    def test_128_characters_are_allowed(self):
        check_password("correct horse battery staple " * 4 + "x" * 12)

    def test_unknown_user_verification_is_false(self):
        assert not verify_password(None, "anything at all")


class TestUnsafeText:
    @pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\x85b", "a\u202eb", "a\u2069b", "a\u200db", "a\x00"])
    def test_refused_with_the_label(self, value):
        from store.errors import InvalidInput
        with pytest.raises(InvalidInput) as caught:
            refuse_unsafe_characters(value, "company", field="company")
        assert caught.value.message.startswith("The company can't contain") and caught.value.field == "company"

    def test_a_joiner_between_persian_or_indic_letters_passes(self):
        refuse_unsafe_characters("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "company")
        refuse_unsafe_characters("\u0915\u094d\u200d\u0937", "customer name")  # Devanagari half form

    def test_ordinary_text_passes(self):
        refuse_unsafe_characters("Ada Lovelace, Analytical Engines Ltd. (Zürich) — 東京", "customer name")


class TestTokens:
    def test_tokens_are_256_bit_random_and_stored_only_as_sha256(self):
        """Rule 6: at least 128 bits; the database keeps only a hash."""
        tokens = {new_token() for _ in range(1000)}
        assert len(tokens) == 1000
        token = tokens.pop()
        assert well_formed(token) and len(token) == 43  # 32 bytes, URL-safe base64
        assert len(token_hash(token)) == 64 and token not in token_hash(token)

    @pytest.mark.parametrize("bad", ["", "short", "a" * 44, "../../etc/passwd" + "a" * 27, "a" * 42 + "%"])
    def test_malformed_tokens_are_recognised(self, bad):
        assert not well_formed(bad)


class TestPortalViewAnswers:
    """What the PORTAL panel asks the store's value instead of deciding itself."""

    def _view(self, username, problem=None):
        from store.customer_values import PortalView
        from store.values import EmailKind, PortalState
        state = PortalState.awaiting_customer if username else PortalState.not_set_up
        return PortalView(reference="C1", version=1, state=state, username=username, password_set_at=None,
                          email_action=EmailKind.credential_create, addresses=("a@x.com",),
                          email_blocked_reason=problem, email_type_enabled=True)

    def test_update_changes_nothing_compares_as_the_store_does(self):
        """Spaces and full-width letters fold away (NFKC, trim); a change of case is a change."""
        view = self._view("ada.l")
        assert view.update_changes_nothing(" ada.l ") and view.update_changes_nothing("ａｄａ.l")
        assert not view.update_changes_nothing("Ada.l")
        assert not view.update_changes_nothing("")  # invalid: the store says why, not "nothing to do"
        assert not self._view(None).update_changes_nothing("ada.l")

    def test_refusals_carry_the_reason(self):
        from store.errors import ActionNotAllowed, NoPrimaryEmail
        assert isinstance(self._view(None).delete_refusal, ActionNotAllowed)
        assert self._view("ada.l").delete_refusal is None
        refusal = self._view("ada.l", problem="The Primary Email Address field is empty.").send_refusal
        assert isinstance(refusal, NoPrimaryEmail) and refusal.message.endswith("field is empty.")
        assert self._view("ada.l").send_refusal is None
