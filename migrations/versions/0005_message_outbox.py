"""messages sent through the Notifier (development outbox and delivery state)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbound_message',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('sent_at', sa.Integer(), nullable=True),
    sa.Column('adapter', sa.String(length=20), nullable=True),
    sa.Column('personalisation_sealed', sa.Text(), nullable=True),
    sa.Column('rendered_sealed', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_message'))
    )
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_to_address'), ['to_address'], unique=False)


def downgrade():
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_message_to_address'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_created_at'))
    op.drop_table('outbound_message')
