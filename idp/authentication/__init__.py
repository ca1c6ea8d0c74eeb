"""Authentication: who is logged in, with which components, and the factors that prove it.

The protocol layer only asks ``current_login()``; factors (passwords now, device
codes, TOTP and passkeys later) only call ``establish_login``.
"""
from .sessions import Login, current_login, end_login, establish_login, session_is_live

__all__ = ["Login", "current_login", "end_login", "establish_login", "session_is_live"]
