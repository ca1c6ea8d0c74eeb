"""Health and care organisations as the NHS names them: ODS codes (the Organisation Data Service).

One rule for every place that takes an ODS code: a practice or trust on the staff pages, the ODS codes
a provisioning client acts for, the ``ods_code`` of a provisioning request.
"""
from __future__ import annotations

import re

# ODS codes are 3 to 8 capital letters and digits (practices are a letter and 5 digits, like A12345).
ODS_CODE = re.compile(r"^[A-Z0-9]{3,8}$")


def is_ods_code(value) -> bool:
    return isinstance(value, str) and bool(ODS_CODE.fullmatch(value))
