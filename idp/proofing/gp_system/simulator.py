"""The GP system simulator: GP online accounts seeded from the synthetic set (development and sandpit)."""
from __future__ import annotations

import hmac

from ...models import SyntheticGpAccount
from . import GpOnlineAccount


def _account(row: SyntheticGpAccount) -> GpOnlineAccount:
    return GpOnlineAccount(nhs_number=row.nhs_number, ods_code=row.ods_code, account_id=row.account_id,
                           linkage_key=row.linkage_key, id_checked_on=row.id_checked_on)


def _key(value: str) -> str:
    # Linkage keys are printed in groups; practices accept them with or without spaces and in any case.
    return "".join((value or "").split()).upper()


class GpSystemSimulator:
    def find_account(self, *, ods_code: str, account_id: str, linkage_key: str) -> GpOnlineAccount | None:
        row = SyntheticGpAccount.query.filter_by(ods_code=(ods_code or "").strip().upper(),
                                                 account_id=(account_id or "").strip()).first()
        if row is None or not hmac.compare_digest(_key(row.linkage_key).encode(), _key(linkage_key).encode()):
            return None
        return _account(row)

    def accounts_of(self, nhs_number: str) -> list[GpOnlineAccount]:
        return [_account(r) for r in SyntheticGpAccount.query.filter_by(nhs_number=nhs_number).all()]
