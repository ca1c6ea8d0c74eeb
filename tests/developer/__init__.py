"""The integrator portal (idp/developer): import the helpers as ``from developer.support import ...``."""
