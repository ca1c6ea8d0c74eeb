"""A relying party, a browser and the checks of the OpenID Foundation conformance plans, written from the specs.

Nothing here imports the provider: it is driven over HTTP with ``requests`` and its
tokens are checked with PyJWT (``jwt``), a JOSE library the provider does not use.
"""
