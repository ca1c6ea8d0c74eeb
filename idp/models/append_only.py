"""Append-only records (the staff audit, the provisioning audit): rows are added, never changed or deleted."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session


def append_only(model, name: str):
    """Refuse updates and deletes of ``model``'s rows, by the unit of work and by bulk statements alike."""
    message = f"the {name} is append-only"

    def refuse(*_):
        raise RuntimeError(message)

    @event.listens_for(Session, "do_orm_execute")
    def _refuse_bulk_changes(state):
        # query.update()/delete() bypass the mapper events: they are refused here.
        if (state.is_update or state.is_delete) and state.bind_mapper is not None and \
                state.bind_mapper.class_ is model:
            refuse()

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
    return model
