"""Account journeys: the pages a person sees (log in and step up, create an account, reset a password,
share information, manage their account). One blueprint; each journey is a module that adds its views."""
from . import login, password_reset, registration, settings, views  # noqa: F401  (each module adds its views to the blueprint)
from .blueprint import bp

__all__ = ["bp"]
