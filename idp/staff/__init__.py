"""The staff area (``/staff``): staff accounts, their own session, roles on every route, and an audit of every action.

The blueprint is in ``blueprint.py``; its pages are the modules beside it (``views``, ``admin``), and
other packages add theirs to the same blueprint with ``access.requires_role`` and ``access.register_area``.
"""
