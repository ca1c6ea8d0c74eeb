"""Account provisioning (issue 10, interface.md "Account provisioning API", journeys.md "Provisioned"):
healthcare staff create or upgrade a patient's account to P9 from their organisation's system, and the
patient claims it from an email link.

- ``requests.py``  the rules: validate, check eligibility with PDS, record the request and send the link
  (``provision``), its status and cancellation, and the claim (``claim.py`` holds the patient's steps)
- ``validation.py``  the request body, field by field;  ``errors.py``  the API's codes
- ``api.py``  the HTTP surface /provisioning/v1 (bearer tokens of provisioning clients, problem+json)
- ``openapi.py``  the OpenAPI 3.1 document the API is checked against
"""
