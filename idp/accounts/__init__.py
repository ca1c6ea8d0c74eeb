"""Account journeys: the pages a person sees (log in, share information, manage their account)."""
from .views import bp

__all__ = ["bp"]
