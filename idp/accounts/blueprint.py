"""The account journeys' blueprint: one surface (pages for people), its views in the modules beside it."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
