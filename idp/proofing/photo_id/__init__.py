"""Photo ID, shared by the face scan and video routes: the documents accepted, uploads checked by
content, media encrypted at rest, and the submissions that carry them to a decision.

- ``documents``: the accepted document types (journeys.md "Prove who they are" 2);
- ``uploads``: what an image or a video must be (by its bytes, never its name);
- ``media``: sealing, reading (only for the route and the reviewer) and deleting;
- ``submissions``: one attempt's life, the ID checking team's queue, claims and decisions;
- ``face_check/``: the adapter in front of the face-match-and-liveness vendor (a simulator by default).
"""
