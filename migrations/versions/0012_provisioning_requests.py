"""account provisioning requests, their idempotency keys and the append-only audit of API calls; the ODS
codes a staff member may provision for, and their authenticator app's wrong codes in a row

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_members') as batch:
        batch.add_column(sa.Column('ods_codes', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('totp_failures', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('provisioning_request',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('ods_code', sa.String(length=8), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('nhs_number', sa.String(length=10), nullable=False),
    sa.Column('birthdate', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('phone_number', sa.String(length=20), nullable=False),
    sa.Column('pds_version', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.Integer(), nullable=True),
    sa.Column('claimed_person_id', sa.String(length=36), nullable=True),
    sa.Column('cancelled_at', sa.Integer(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_hash'),
    )
    with op.batch_alter_table('provisioning_request') as batch:
        batch.create_index('ix_provisioning_request_client_id', ['client_id'])
        batch.create_index('ix_provisioning_request_ods_code', ['ods_code'])
        batch.create_index('ix_provisioning_request_nhs_number', ['nhs_number'])
        batch.create_index('ix_provisioning_request_status', ['status'])
    op.create_index('uq_provisioning_request_pending_nhs_number', 'provisioning_request', ['nhs_number'], unique=True,
                    sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.create_table('provisioning_idempotency',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'key'),
    )
    with op.batch_alter_table('provisioning_idempotency') as batch:
        batch.create_index('ix_provisioning_idempotency_created_at', ['created_at'])
    op.create_table('provisioning_audit',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('ods_code', sa.String(length=8), nullable=True),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('provisioning_id', sa.String(length=36), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('replayed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    )
    with op.batch_alter_table('provisioning_audit') as batch:
        batch.create_index('ix_provisioning_audit_at', ['at'])
        batch.create_index('ix_provisioning_audit_client_id', ['client_id'])
        batch.create_index('ix_provisioning_audit_provisioning_id', ['provisioning_id'])


def downgrade():
    with op.batch_alter_table('staff_members') as batch:
        batch.drop_column('totp_failures')
        batch.drop_column('ods_codes')
    op.drop_table('provisioning_audit')
    op.drop_table('provisioning_idempotency')
    op.drop_table('provisioning_request')
