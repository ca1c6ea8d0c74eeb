"""Identity proofing: who a person is, to which level, and the evidence that says so.

- ``level.raise_level`` is the only code that changes a person's proofing level;
- ``evidence`` is the append-only ledger every check writes, and what ``idp users explain`` reads;
- ``matching`` decides whether details match one PDS record (``normalise`` says what "the same" is);
- ``routes/`` holds one module per way of proving (demographics to P5; GP online details and
  fast-track to P9), each the same shape, and ``journey`` chooses among them for a level asked;
- ``pds/`` and ``gp_system/`` are the adapters in front of the national and GP services;
- ``pages/`` is the blueprint of the pages people see.
"""
from .level import NhsNumberTaken, ProofingError, raise_level

__all__ = ["raise_level", "ProofingError", "NhsNumberTaken"]
