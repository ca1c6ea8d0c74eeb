"""The staff area (idp/staff): import the helpers as ``from staff.support import ...``."""
