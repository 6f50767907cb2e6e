"""ticket_events.solution_at: the solution an event answered, as a column

An import keeps a caller's answer while the file still proposes the solution that was answered.
That solution was read back from the event's free text (``detail``, rejections only); it now has
a column, written for every answer and automatic closing.

Filled in for the events before this revision:

- rejections: from their text, ``solution_at <ISO time>[, postponed]``;
- acceptances, postponements and automatic closings: the ticket's own solution, where the ticket
  is still in the state such an event leaves (closed as accepted, closed automatically, postponed
  with its solution still proposed), so imports judge them exactly as before. Elsewhere the
  solution is not known and the column stays empty; an import no longer consults them.

Revision ID: 0006_ticket_events_solution_at
Revises: 0005_calls_outcome_unindexed
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0006_ticket_events_solution_at"
down_revision = "0005_calls_outcome_unindexed"
branch_labels = None
depends_on = None

# The tables as of this revision, only the columns used here.
events = sa.table(
    "ticket_events",
    sa.column("id", sa.Integer()),
    sa.column("ticket_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("detail", sa.Text()),
    sa.column("solution_at", UTCDateTime()),
)
tickets = sa.table(
    "tickets",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("solution_at", UTCDateTime()),
    sa.column("postponed", sa.Boolean()),
    sa.column("closed_how", sa.String()),
)
REJECTED_PREFIX = "solution_at "


def upgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("solution_at", UTCDateTime(), nullable=True))

    connection = op.get_bind()
    rejected = connection.execute(
        sa.select(events.c.id, events.c.detail).where(
            events.c.kind == "rejected", events.c.detail.startswith(REJECTED_PREFIX))
    ).all()
    for event_id, detail in rejected:
        named = detail[len(REJECTED_PREFIX):].split(",", 1)[0].strip()
        try:
            solution_at = datetime.fromisoformat(named).astimezone(UTC)
        except ValueError:
            continue  # not text this server wrote: left unknown
        connection.execute(
            events.update().where(events.c.id == event_id).values(solution_at=solution_at))

    answered_state = {
        "accepted": sa.and_(tickets.c.status == "closed", tickets.c.closed_how == "accepted"),
        "auto_closed": sa.and_(tickets.c.status == "closed", tickets.c.closed_how == "automatic"),
        "postponed": sa.and_(tickets.c.status == "solution_proposed",
                             tickets.c.postponed == sa.true()),
    }
    for kind, state in answered_state.items():
        in_state = sa.select(tickets.c.id).where(state)
        connection.execute(
            events.update()
            .where(events.c.kind == kind, events.c.ticket_id.in_(in_state))
            .values(solution_at=sa.select(tickets.c.solution_at)
                    .where(tickets.c.id == events.c.ticket_id)
                    .scalar_subquery())
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("solution_at")
