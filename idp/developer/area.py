"""The integrator portal as one of the signed-in areas (``idp.areas``): its accounts, sessions, cookie, audit."""
from ..areas.area import Area, register
from ..models import Integrator, IntegratorSession
from ..surfaces import Surface
from . import audit

DEVELOPER = register(Area(
    name="developer", surface=Surface.DEVELOPER_PAGE, member_model=Integrator, session_model=IntegratorSession,
    member_column="member_id", cookie_config="DEVELOPER_SESSION_COOKIE_NAME", throttle_prefix="developer",
    sealing_context=b"idp-developer-authenticator", authenticator_label="integrator portal",
    templates="developer", audit=audit.record, set_up_path="/developer/set-up",
))
