"""Signed-in areas for people who are not patients: the staff area (``/staff``) and the integrator portal
(``/developer``).

Each ``Area`` (``area.py``) has accounts of its own (a model with the columns of ``MemberColumns``), its own
server-side session and cookie (``sessions.py``, never the patients'), a password and then always an
authenticator app to log in (``factors.py``), one-time set-up links (``accounts.py``) and the pages that use
them (``pages.py``). The staff area and the portal are two instances: a rule mended here holds in both.
"""
from .area import Area

__all__ = ["Area"]
