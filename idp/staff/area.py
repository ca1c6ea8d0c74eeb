"""The staff area as one of the signed-in areas (``idp.areas``): its accounts, sessions, cookie and audit."""
from ..areas.area import Area, register
from ..models import StaffMember, StaffSession
from ..surfaces import Surface
from . import audit

STAFF = register(Area(
    name="staff", surface=Surface.STAFF_PAGE, member_model=StaffMember, session_model=StaffSession,
    member_column="staff_member_id", cookie_config="STAFF_SESSION_COOKIE_NAME", throttle_prefix="staff",
    sealing_context=b"idp-staff-authenticator", authenticator_label="staff", templates="staff",
    audit=audit.record, set_up_path="/staff/set-up",
))
