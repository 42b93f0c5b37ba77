"""Who is acting: roles, the Actor, and scope rules shared by every domain."""

from service.security.actor import Actor, Role

__all__ = ["Actor", "Role"]
