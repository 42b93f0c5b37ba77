"""Who is acting: roles, the Actor, and scope rules shared by every domain."""

from service.security.actor import Actor, Role
from service.security.keyring import Keyring, KeyringError, load_keyring

__all__ = [
    "Actor",
    "Keyring",
    "KeyringError",
    "load_keyring",
    "Role",
]
