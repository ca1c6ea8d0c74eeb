"""Email through an SMTP relay (RFC 5321), always upgraded with STARTTLS (RFC 3207) before anything is sent."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .base import Adapter, DeliveryFailed, Outgoing


class SmtpAdapter(Adapter):
    name = "smtp"
    channels = frozenset({"email"})

    @classmethod
    def configuration_problems(cls, settings, channel: str) -> list[str]:
        problems = []
        if not settings.smtp_host:
            problems.append("IDP_SMTP_HOST is needed to send email by smtp")
        if not settings.mail_from:
            problems.append("IDP_MAIL_FROM is needed to send email by smtp")
        if bool(settings.smtp_username) != bool(settings.smtp_password):
            problems.append("IDP_SMTP_USERNAME and IDP_SMTP_PASSWORD go together")
        return problems

    def deliver(self, message: Outgoing) -> None:
        settings = self.settings
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = settings.mail_from, message.to, message.subject
        email["Date"], email["Message-ID"] = formatdate(localtime=False), make_msgid(domain="idp")
        email.set_content(message.body)
        email["Content-Language"] = message.language  # after set_content, which clears Content-* headers
        # The relay's certificate is verified (system trust, or IDP_SMTP_CA_FILE for a private relay).
        context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.outbound_timeout_seconds) as smtp:
                smtp.starttls(context=context)
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            # The exception names the address: say only what happened. RFC 5321 4.2.1: 5yz is permanent.
            code = min(code for code, _text in exc.recipients.values())
            raise DeliveryFailed(f"SMTP relay refused the recipient ({code})", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP relay answered {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise DeliveryFailed(f"SMTP relay unreachable or unusable: {type(exc).__name__}") from None
