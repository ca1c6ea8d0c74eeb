"""provisioning clients: staff systems that get client_credentials tokens for the ODS codes they act for

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='relying_party'))
        batch.add_column(sa.Column('ods_codes', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('client') as batch:
        batch.drop_column('ods_codes')
        batch.drop_column('kind')
