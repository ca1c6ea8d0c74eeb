"""The ``sub`` a client sees for a person (OIDC Core 8). Public by default: the person's UUID."""


def subject_for(person, client) -> str:
    # Pairwise identifiers (OIDC Core 8.1) slot in here when a client registers subject_type=pairwise.
    return person.id
