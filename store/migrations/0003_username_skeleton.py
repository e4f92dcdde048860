# Portal usernames that look alike are one username (rule 1): every portal_login's
# username_key becomes the look-alike key of store.usernames.username_key (the Unicode
# TS #39 skeleton of the NFKC, case-folded name). Logins that already look alike keep
# working: the oldest keeps the new key; each newer one keeps its previous key (sign-in
# tries a typed name's previous key first), and a new look-alike of either is refused
# because the new key is taken. Each such case is logged with both customers.
import logging

from store.usernames import legacy_username_key, username_key

log = logging.getLogger("store.migrations")
# No username holds '~' (store/usernames.py ALLOWED_SYMBOLS), so these never meet a real key.
_PARKED = "~0003~{}"


def up(migrator, db):
    rows = _logins(db)
    taken: dict[str, int] = {}  # key -> id of the login holding it
    final: dict[int, str] = {}
    # The oldest first: it keeps the look-alike key when two collide.
    for login_id, username, _old_key, reference in rows:
        key = username_key(username)
        if key not in taken:
            taken[key] = login_id
            final[login_id] = key
    by_id = {row[0]: row for row in rows}
    for login_id, username, _old_key, reference in rows:
        if login_id in final:
            continue
        holder = by_id[taken[username_key(username)]]
        previous = legacy_username_key(username)
        if previous not in taken:
            taken[previous] = login_id
            final[login_id] = previous
            log.warning(
                "portal username %r of customer %s looks like %r of customer %s (older): it keeps its "
                "previous key and still signs in; new look-alikes of both are refused.",
                username, reference, holder[1], holder[3])
        else:
            # Its previous key is now another login's look-alike key: nothing typed finds it.
            parked = _PARKED.format(login_id)
            taken[parked] = login_id
            final[login_id] = parked
            log.warning(
                "portal username %r of customer %s looks like %r of customer %s (older) and can't keep "
                "its previous key: it can't sign in until an agent gives customer %s a new portal "
                "username.", username, reference, holder[1], holder[3], reference)
    _rekey(db, {login_id: key for login_id, _u, old_key, _r in rows
                if (key := final[login_id]) != old_key})


def down(migrator, db):
    rows = _logins(db)
    _rekey(db, {login_id: key for login_id, username, old_key, _r in rows
                if (key := legacy_username_key(username)) != old_key})


def _logins(db):
    return db.execute_sql(
        "SELECT l.id, l.username, l.username_key, c.reference FROM portal_login l "
        "JOIN customer c ON c.id = l.customer_id ORDER BY l.created_at, l.id"
    ).fetchall()


def _rekey(db, keys):
    """Set the changed keys in two steps, so that no UPDATE meets the key another login is
    about to give up under the UNIQUE index."""
    if not keys:
        return
    p = db.param
    cursor = db.cursor()
    cursor.executemany(f"UPDATE portal_login SET username_key = {p} WHERE id = {p}",
                       [(_PARKED.format(i), i) for i in keys])
    cursor.executemany(f"UPDATE portal_login SET username_key = {p} WHERE id = {p}",
                       [(key, i) for i, key in keys.items()])
    log.info("portal usernames: %d keys recomputed for look-alike comparison", len(keys))
