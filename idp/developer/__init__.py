"""The integrator portal (``/developer``, issue 11): organisations and their members (``organisations``), the
services they connect (``services``), clients per environment through the one registration module
(``clients``), approval where it matters (``approval``, decided in the staff area), the configuration to
paste (``configuration``), sandpit test people (``test_people``) and the pages (``views``).

Its accounts are an ``idp.areas`` area of their own: own session cookie, password and authenticator app.
The portal is in English: it is for organisations' developers, not patients.
"""
