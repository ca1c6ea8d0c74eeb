"""What integrators need to connect a service (issue 11): the configuration to paste for each client
(``configuration.py``), used by ``idp clients config`` and, later, the integrator portal at /developer.
"""
