"""What every message says, in English and Welsh: one registry, placeholders written ``((name))`` as in GOV.UK Notify.

Each template lists the channels it can go by (an email has a subject and a body; SMS and voice have one
text). Codes are 6 digits and expire after ``CODE_TTL_SECONDS``; a message carrying one is not worth
sending after that (``max_age``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

LANGUAGES = ("en", "cy")
CHANNELS = ("email", "sms", "voice")
CODE_TTL_SECONDS = 300  # "It expires in 5 minutes" below
_PLACEHOLDER = re.compile(r"\(\((\w+)\)\)")


class TemplateError(ValueError):
    """An unknown template, language or channel, or personalisation that does not fill the template."""


@dataclass(frozen=True)
class Rendered:
    subject: str  # empty for SMS and voice
    body: str


@dataclass(frozen=True)
class Template:
    name: str
    email: dict[str, tuple[str, str]] = field(default_factory=dict)  # language -> (subject, body)
    sms: dict[str, str] = field(default_factory=dict)
    voice: dict[str, str] = field(default_factory=dict)
    max_age: int | None = None  # seconds after which the message is pointless (its code has expired)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(channel for channel in CHANNELS if getattr(self, channel))


def _fill(text: str, values: dict) -> str:
    def value(match):
        if match.group(1) not in values:
            raise TemplateError(f"personalisation is missing {match.group(1)!r}")
        return str(values[match.group(1)])

    return _PLACEHOLDER.sub(value, text)


def _spoken(values: dict) -> dict:
    # Text-to-speech reads "123456" as a number; digits apart are read one at a time.
    return {k: " ".join(v) if isinstance(v, str) and v.isdigit() else v for k, v in values.items()}


def render(name: str, channel: str, language: str, personalisation: dict) -> Rendered:
    """The message ``name`` for ``channel`` in ``language``, filled in; ``TemplateError`` if that cannot be done."""
    template = TEMPLATES.get(name)
    if template is None:
        raise TemplateError(f"no message template {name!r}")
    if language not in LANGUAGES:
        raise TemplateError(f"messages are in {', '.join(LANGUAGES)}, not {language!r}")
    if channel not in template.channels:
        raise TemplateError(f"{name} cannot be sent by {channel!r} (only {', '.join(template.channels)})")
    if channel == "email":
        subject, body = template.email[language]
        return Rendered(_fill(subject, personalisation), _fill(body, personalisation))
    if channel == "voice":
        return Rendered("", _fill(template.voice[language], _spoken(personalisation)))
    return Rendered("", _fill(template.sms[language], personalisation))


_IGNORE_EN = "If you did not ask for this code, you can ignore this email. Do not share this code with anyone."
_IGNORE_CY = ("Os na wnaethoch ofyn am y cod hwn, gallwch anwybyddu'r e-bost hwn. "
              "Peidiwch â rhannu'r cod hwn ag unrhyw un.")
_NOT_YOU_EN = "If you did not make this change, contact NHS login support straight away."
_NOT_YOU_CY = "Os na wnaethoch chi'r newid hwn, cysylltwch â chymorth NHS login ar unwaith."

_TEMPLATES = (
    Template(
        "email_confirmation_code", max_age=CODE_TTL_SECONDS,
        email={
            "en": ("Your NHS login confirmation code",
                   "Your NHS login confirmation code is ((code)).\n\n"
                   "Enter this code to confirm your email address. It expires in 5 minutes.\n\n" + _IGNORE_EN),
            "cy": ("Eich cod cadarnhau NHS login",
                   "Eich cod cadarnhau NHS login yw ((code)).\n\n"
                   "Rhowch y cod hwn i gadarnhau eich cyfeiriad e-bost. Mae'n dod i ben ymhen 5 munud.\n\n" + _IGNORE_CY),
        },
    ),
    Template(
        "phone_confirmation_code", max_age=CODE_TTL_SECONDS,
        sms={
            "en": "Your NHS login confirmation code is ((code)). It expires in 5 minutes. Do not share it with anyone.",
            "cy": "Eich cod cadarnhau NHS login yw ((code)). Mae'n dod i ben ymhen 5 munud. Peidiwch â'i rannu ag unrhyw un.",
        },
        voice={
            "en": "This is NHS login. Your confirmation code is ((code)). Again, your code is ((code)). "
                  "It expires in 5 minutes.",
            "cy": "Dyma NHS login. Eich cod cadarnhau yw ((code)). Unwaith eto, eich cod yw ((code)). "
                  "Mae'n dod i ben ymhen 5 munud.",
        },
    ),
    Template(
        "login_code", max_age=CODE_TTL_SECONDS,
        email={
            "en": ("Your NHS login security code",
                   "Your NHS login security code is ((code)).\n\n"
                   "Enter this code to log in. It expires in 5 minutes.\n\n" + _IGNORE_EN),
            "cy": ("Eich cod diogelwch NHS login",
                   "Eich cod diogelwch NHS login yw ((code)).\n\n"
                   "Rhowch y cod hwn i fewngofnodi. Mae'n dod i ben ymhen 5 munud.\n\n" + _IGNORE_CY),
        },
        sms={
            "en": "Your NHS login security code is ((code)). It expires in 5 minutes. Do not share it with anyone.",
            "cy": "Eich cod diogelwch NHS login yw ((code)). Mae'n dod i ben ymhen 5 munud. Peidiwch â'i rannu ag unrhyw un.",
        },
        voice={
            "en": "This is NHS login. Your security code is ((code)). Again, your code is ((code)). "
                  "It expires in 5 minutes.",
            "cy": "Dyma NHS login. Eich cod diogelwch yw ((code)). Unwaith eto, eich cod yw ((code)). "
                  "Mae'n dod i ben ymhen 5 munud.",
        },
    ),
    Template(
        "already_registered",
        email={
            "en": ("Someone tried to create an NHS login with your email address",
                   "Someone tried to create an NHS login using this email address, but you already have an NHS login.\n\n"
                   "If this was you, log in with your email address and password. If you have forgotten your "
                   "password, you can reset it from the login page.\n\n"
                   "If this was not you, you do not need to do anything. Your NHS login has not been changed."),
            "cy": ("Ceisiodd rhywun greu NHS login gyda'ch cyfeiriad e-bost",
                   "Ceisiodd rhywun greu NHS login gan ddefnyddio'r cyfeiriad e-bost hwn, ond mae gennych NHS login yn barod.\n\n"
                   "Os mai chi oedd hyn, mewngofnodwch gyda'ch cyfeiriad e-bost a'ch cyfrinair. Os ydych wedi "
                   "anghofio eich cyfrinair, gallwch ei ailosod o'r dudalen mewngofnodi.\n\n"
                   "Os nad chi oedd hyn, nid oes angen i chi wneud dim. Nid yw eich NHS login wedi newid."),
        },
    ),
    Template(
        "password_reset_code", max_age=CODE_TTL_SECONDS,
        email={
            "en": ("Your NHS login password reset code",
                   "Your NHS login password reset code is ((code)).\n\n"
                   "Enter this code to reset your password. It expires in 5 minutes.\n\n"
                   "If you did not ask to reset your password, you can ignore this email. "
                   "Your password has not been changed. Do not share this code with anyone."),
            "cy": ("Eich cod ailosod cyfrinair NHS login",
                   "Eich cod ailosod cyfrinair NHS login yw ((code)).\n\n"
                   "Rhowch y cod hwn i ailosod eich cyfrinair. Mae'n dod i ben ymhen 5 munud.\n\n"
                   "Os na wnaethoch ofyn i ailosod eich cyfrinair, gallwch anwybyddu'r e-bost hwn. "
                   "Nid yw eich cyfrinair wedi newid. Peidiwch â rhannu'r cod hwn ag unrhyw un."),
        },
        sms={
            "en": "Your NHS login password reset code is ((code)). It expires in 5 minutes. Do not share it with anyone.",
            "cy": "Eich cod ailosod cyfrinair NHS login yw ((code)). Mae'n dod i ben ymhen 5 munud. "
                  "Peidiwch â'i rannu ag unrhyw un.",
        },
    ),
    Template(
        "email_changed",  # sent to the old address, so its owner hears of a change they did not make
        email={
            "en": ("Your NHS login email address has been changed",
                   "The email address for your NHS login has been changed. We will now send emails about your "
                   "NHS login to the new address.\n\n" + _NOT_YOU_EN),
            "cy": ("Mae eich cyfeiriad e-bost NHS login wedi newid",
                   "Mae'r cyfeiriad e-bost ar gyfer eich NHS login wedi'i newid. Byddwn nawr yn anfon negeseuon "
                   "e-bost am eich NHS login i'r cyfeiriad newydd.\n\n" + _NOT_YOU_CY),
        },
    ),
    Template(
        "phone_changed",
        email={
            "en": ("Your NHS login phone number has been changed",
                   "The phone number for your NHS login has been changed.\n\n" + _NOT_YOU_EN),
            "cy": ("Mae eich rhif ffôn NHS login wedi newid",
                   "Mae'r rhif ffôn ar gyfer eich NHS login wedi'i newid.\n\n" + _NOT_YOU_CY),
        },
        sms={
            "en": "The phone number for your NHS login has been changed. " + _NOT_YOU_EN,
            "cy": "Mae'r rhif ffôn ar gyfer eich NHS login wedi'i newid. " + _NOT_YOU_CY,
        },
    ),
    Template(
        "password_changed",
        email={
            "en": ("Your NHS login password has been changed",
                   "The password for your NHS login has been changed.\n\n"
                   "If you did not make this change, reset your password and contact NHS login support straight away."),
            "cy": ("Mae eich cyfrinair NHS login wedi newid",
                   "Mae'r cyfrinair ar gyfer eich NHS login wedi'i newid.\n\n"
                   "Os na wnaethoch chi'r newid hwn, ailosodwch eich cyfrinair a chysylltwch â chymorth NHS login "
                   "ar unwaith."),
        },
    ),
    Template(
        "account_deleted",
        email={
            "en": ("Your NHS login has been deleted",
                   "Your NHS login has been deleted. You can no longer use it to log in to health and care "
                   "services.\n\nIf you did not ask for this, contact NHS login support straight away."),
            "cy": ("Mae eich NHS login wedi'i ddileu",
                   "Mae eich NHS login wedi'i ddileu. Ni allwch ei ddefnyddio mwyach i fewngofnodi i wasanaethau "
                   "iechyd a gofal.\n\nOs na wnaethoch ofyn am hyn, cysylltwch â chymorth NHS login ar unwaith."),
        },
    ),
    Template(
        "photo_id_received",  # the video route: the person waits for the ID checking team
        email={
            "en": ("We have your photo ID and video",
                   "We have received your photo ID and video. The NHS login ID checking team will check them, "
                   "normally within 2 hours, and email you the result.\n\n"
                   "You do not need to do anything until then. You can still log in to ((link))"),
            "cy": ("Mae eich llun adnabod a'ch fideo gennym",
                   "Rydym wedi cael eich llun adnabod a'ch fideo. Bydd tîm gwirio adnabod NHS login yn eu gwirio, "
                   "fel arfer o fewn 2 awr, ac yn anfon y canlyniad atoch drwy e-bost.\n\n"
                   "Nid oes angen i chi wneud dim tan hynny. Gallwch barhau i fewngofnodi i ((link))"),
        },
    ),
    Template(
        "photo_id_approved",
        email={
            "en": ("You have proved who you are with NHS login",
                   "The NHS login ID checking team has checked your photo ID. You have proved who you are.\n\n"
                   "You can now log in and use the service: ((link))"),
            "cy": ("Rydych wedi profi pwy ydych chi gyda NHS login",
                   "Mae tîm gwirio adnabod NHS login wedi gwirio eich llun adnabod. Rydych wedi profi pwy ydych "
                   "chi.\n\nGallwch nawr fewngofnodi a defnyddio'r gwasanaeth: ((link))"),
        },
    ),
    Template(
        "photo_id_rejected",
        email={
            "en": ("We could not confirm who you are with NHS login",
                   "The NHS login ID checking team could not confirm who you are from your photo ID and video.\n\n"
                   "((reason))\n\nYou can log in and try again: ((link))\n\n"
                   "We have deleted the photo and video you sent."),
            "cy": ("Nid oeddem yn gallu cadarnhau pwy ydych chi gyda NHS login",
                   "Nid oedd tîm gwirio adnabod NHS login yn gallu cadarnhau pwy ydych chi o'ch llun adnabod "
                   "a'ch fideo.\n\n((reason))\n\nGallwch fewngofnodi a rhoi cynnig arall arni: ((link))\n\n"
                   "Rydym wedi dileu'r llun a'r fideo a anfonoch."),
        },
    ),
    Template(
        "photo_id_expired",
        email={
            "en": ("Your photo ID could not be checked in time",
                   "We could not check the photo ID and video you sent to NHS login in time, so we have deleted "
                   "them.\n\nYou can log in and try again: ((link))"),
            "cy": ("Nid oedd modd gwirio eich llun adnabod mewn pryd",
                   "Nid oeddem yn gallu gwirio'r llun adnabod a'r fideo a anfonoch i NHS login mewn pryd, felly "
                   "rydym wedi eu dileu.\n\nGallwch fewngofnodi a rhoi cynnig arall arni: ((link))"),
        },
    ),
    Template(
        "in_person_verified",
        email={
            "en": ("You have proved who you are with NHS login",
                   "A health professional at ((organisation)) has confirmed who you are. You have proved who "
                   "you are with NHS login.\n\nYou can now log in: ((link))\n\n" + _NOT_YOU_EN),
            "cy": ("Rydych wedi profi pwy ydych chi gyda NHS login",
                   "Mae gweithiwr iechyd proffesiynol yn ((organisation)) wedi cadarnhau pwy ydych chi. Rydych "
                   "wedi profi pwy ydych chi gyda NHS login.\n\nGallwch nawr fewngofnodi: ((link))\n\n" + _NOT_YOU_CY),
        },
    ),
    Template(
        "provisioning_invitation",  # issue 10: a staff system set up NHS login for the person; the link claims it
        email={
            "en": ("Your NHS login is ready to set up",
                   "A health service (ODS code ((organisation))) has asked for an NHS login for you, so you can use "
                   "services that need you to have proved who you are.\n\n"
                   "To finish setting it up, use this link within 7 days. It works once:\n((link))\n\n"
                   "We will send a security code to the mobile phone number your GP surgery has for you.\n\n"
                   "If you did not ask for this, you can ignore this email: nothing happens unless you use the link."),
            "cy": ("Mae eich NHS login yn barod i'w sefydlu",
                   "Mae gwasanaeth iechyd (cod ODS ((organisation))) wedi gofyn am NHS login i chi, fel y gallwch "
                   "ddefnyddio gwasanaethau sydd angen i chi fod wedi profi pwy ydych chi.\n\n"
                   "I orffen ei sefydlu, defnyddiwch y ddolen hon o fewn 7 diwrnod. Mae'n gweithio unwaith:\n((link))\n\n"
                   "Byddwn yn anfon cod diogelwch i'r rhif ffôn symudol sydd gan eich meddygfa ar eich cyfer.\n\n"
                   "Os na wnaethoch ofyn am hyn, gallwch anwybyddu'r e-bost hwn: nid oes dim yn digwydd oni bai "
                   "eich bod yn defnyddio'r ddolen."),
        },
    ),
    Template(
        "provisioning_claimed",
        email={
            "en": ("You have set up your NHS login",
                   "You have set up your NHS login and proved who you are to a high level, as a health service "
                   "(ODS code ((organisation))) asked.\n\nYou can now log in: ((link))\n\n" + _NOT_YOU_EN),
            "cy": ("Rydych wedi sefydlu eich NHS login",
                   "Rydych wedi sefydlu eich NHS login ac wedi profi pwy ydych chi i lefel uchel, fel y gofynnodd "
                   "gwasanaeth iechyd (cod ODS ((organisation))).\n\nGallwch nawr fewngofnodi: ((link))\n\n"
                   + _NOT_YOU_CY),
        },
    ),
    # Issue 11: the integrator portal. Integrators are organisations' developers; Welsh is kept for parity.
    Template(
        "developer_set_up",
        email={
            "en": ("Set up your account for the NHS login integrator portal",
                   "You signed up ((organisation)) for the NHS login integrator portal.\n\n"
                   "Set up your account within 72 hours with this link. It works once:\n((link))\n\n"
                   "If you did not sign up, you can ignore this email."),
            "cy": ("Sefydlwch eich cyfrif ar gyfer porth integreiddwyr NHS login",
                   "Gwnaethoch gofrestru ((organisation)) ar gyfer porth integreiddwyr NHS login.\n\n"
                   "Sefydlwch eich cyfrif o fewn 72 awr gyda'r ddolen hon. Mae'n gweithio unwaith:\n((link))\n\n"
                   "Os na wnaethoch gofrestru, gallwch anwybyddu'r e-bost hwn."),
        },
    ),
    Template(
        "developer_invitation",
        email={
            "en": ("You have been invited to the NHS login integrator portal",
                   "A member of ((organisation)) has invited you to the NHS login integrator portal.\n\n"
                   "Set up your account within 72 hours with this link. It works once:\n((link))"),
            "cy": ("Rydych wedi cael gwahoddiad i borth integreiddwyr NHS login",
                   "Mae aelod o ((organisation)) wedi eich gwahodd i borth integreiddwyr NHS login.\n\n"
                   "Sefydlwch eich cyfrif o fewn 72 awr gyda'r ddolen hon. Mae'n gweithio unwaith:\n((link))"),
        },
    ),
    Template(
        "developer_account_exists",
        email={
            "en": ("You already have an NHS login integrator portal account",
                   "Someone tried to sign up or invite this email address to the NHS login integrator portal, "
                   "but it already has an account.\n\nLog in here: ((link))\n\n"
                   "If this was not you, you can ignore this email."),
            "cy": ("Mae gennych gyfrif porth integreiddwyr NHS login yn barod",
                   "Ceisiodd rhywun gofrestru neu wahodd y cyfeiriad e-bost hwn i borth integreiddwyr NHS login, "
                   "ond mae ganddo gyfrif yn barod.\n\nMewngofnodwch yma: ((link))\n\n"
                   "Os nad chi oedd hyn, gallwch anwybyddu'r e-bost hwn."),
        },
    ),
    Template(
        "developer_request_approved",
        email={
            "en": ("Your client request has been approved",
                   "A request from ((organisation)) for an NHS login client has been approved.\n\n"
                   "Note from the reviewer: ((reason))\n\nSee the client and its configuration: ((link))"),
            "cy": ("Mae eich cais am gleient wedi'i gymeradwyo",
                   "Mae cais gan ((organisation)) am gleient NHS login wedi'i gymeradwyo.\n\n"
                   "Nodyn gan yr adolygydd: ((reason))\n\nGweld y cleient a'i ffurfweddiad: ((link))"),
        },
    ),
    Template(
        "developer_request_rejected",
        email={
            "en": ("Your client request has not been approved",
                   "A request from ((organisation)) for an NHS login client has not been approved.\n\n"
                   "The reason: ((reason))\n\nYou can change the request and ask again: ((link))"),
            "cy": ("Nid yw eich cais am gleient wedi'i gymeradwyo",
                   "Nid yw cais gan ((organisation)) am gleient NHS login wedi'i gymeradwyo.\n\n"
                   "Y rheswm: ((reason))\n\nGallwch newid y cais a gofyn eto: ((link))"),
        },
    ),
    Template(
        "developer_client_changed",
        email={
            "en": ("A client of your organisation was changed",
                   "((reason))\n\nOrganisation: ((organisation))\nSee its settings: ((link))\n\n"
                   "If you did not expect this change, tell the other members of your organisation straight away."),
            "cy": ("Cafodd cleient eich sefydliad ei newid",
                   "((reason))\n\nSefydliad: ((organisation))\nGweld ei osodiadau: ((link))\n\n"
                   "Os nad oeddech yn disgwyl y newid hwn, dywedwch wrth aelodau eraill eich sefydliad ar unwaith."),
        },
    ),
)
TEMPLATES: dict[str, Template] = {template.name: template for template in _TEMPLATES}
