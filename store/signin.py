"""Signing in to the portal with a portal username and password. Rule 7 of docs/design.md."""
from __future__ import annotations

from .errors import InvalidLogin
from .models import Customer, PortalLogin
from .passwords import verify_password
from .usernames import username_key
from .values import SignedInCustomer


def authenticate(username: str, password: str) -> SignedInCustomer:
    """The portal's login: one neutral InvalidLogin for every wrong pair."""
    key = username_key(username or "")
    login = PortalLogin.get_or_none(PortalLogin.username_key == key) if 0 < len(key) <= 256 else None
    if not verify_password(login.password_hash if login else None, password or ""):
        raise InvalidLogin()
    customer = Customer.get_by_id(login.customer_id)
    return SignedInCustomer(reference=customer.reference, name=customer.name, username=login.username)
