"""The proofing pages' blueprint (one surface: pages for people); the rules they call are in idp/proofing."""
from .blueprint import bp
from . import photo_id, views  # noqa: F401 - registers the views and the "prove" interaction kind

__all__ = ["bp"]
