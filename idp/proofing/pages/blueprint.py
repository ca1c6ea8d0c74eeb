from flask import Blueprint

bp = Blueprint("proofing", __name__, url_prefix="/prove-who-you-are")
