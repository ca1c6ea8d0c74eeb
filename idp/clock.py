"""One clock for the whole provider, so tests can move it (freezegun patches time.time)."""
import time


def now() -> int:
    """Current time as whole UTC epoch seconds, the unit every record and token uses."""
    return int(time.time())
