"""per-component authentication times, one-time codes and remembered devices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('one_time_code',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('journey', sa.String(length=64), nullable=False),
    sa.Column('destination_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_code'))
    )
    with op.batch_alter_table('one_time_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_one_time_code_journey'), ['journey'], unique=False)
        batch_op.create_index(batch_op.f('ix_one_time_code_destination_hash'), ['destination_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_one_time_code_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_one_time_code_expires_at'), ['expires_at'], unique=False)
    op.create_table('remembered_device',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('last_used_at', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_remembered_device_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remembered_device'))
    )
    with op.batch_alter_table('remembered_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remembered_device_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remembered_device_last_used_at'), ['last_used_at'], unique=False)
    op.create_table('factor_failures',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('component', sa.String(length=2), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_factor_failures_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'component', name=op.f('pk_factor_failures'))
    )
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('component_times', sa.JSON(), nullable=True))


def downgrade():
    op.drop_table('factor_failures')
    op.drop_table('remembered_device')
    op.drop_table('one_time_code')
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.drop_column('component_times')
