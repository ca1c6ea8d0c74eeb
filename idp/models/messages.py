"""Messages to people (email, SMS, voice): what was asked for, and whether it went (see idp/notifications)."""
from ..clock import now
from ..extensions import db


class OutboundMessage(db.Model):
    __tablename__ = "outbound_message"

    id = db.Column(db.String(36), primary_key=True)
    created_at = db.Column(db.Integer, nullable=False, default=now, index=True)
    channel = db.Column(db.String(10), nullable=False)  # "email" | "sms" | "voice"
    to_address = db.Column(db.String(320), nullable=False, index=True)
    template = db.Column(db.String(40), nullable=False)
    language = db.Column(db.String(5), nullable=False, default="en")
    status = db.Column(db.String(10), nullable=False, default="pending")  # "pending" | "sent" | "failed"
    sent_at = db.Column(db.Integer)
    adapter = db.Column(db.String(20))  # the adapter that sent it
    # Fernet tokens (idp/notifications/sealed.py): the personalisation holds codes, so it is sealed and
    # erased once the message has gone or failed; the rendered text is kept by the development outbox only.
    personalisation_sealed = db.Column(db.Text)
    rendered_sealed = db.Column(db.Text)
