"""Levels of assurance: identity proofing (P) and authentication components (C).

A vector of trust (``vtr``) such as ``P9.Cp.Cd`` names one proofing level and
the authentication components that must all have been used; the vectors in a
request are alternatives. These rules follow interface.md "Levels".
"""
from .vectors import (
    AuthenticationComponent,
    InvalidVectorError,
    ProofingLevel,
    VectorOfTrust,
    choose_vot,
    parse_vector_list,
    parse_vtr_parameter,
)

__all__ = [
    "AuthenticationComponent",
    "InvalidVectorError",
    "ProofingLevel",
    "VectorOfTrust",
    "choose_vot",
    "parse_vector_list",
    "parse_vtr_parameter",
]
