"""authenticator apps (TOTP) and passkeys (WebAuthn)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('authenticator_app',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('last_used_step', sa.BigInteger(), nullable=False),
    sa.Column('last_used_at', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_authenticator_app_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authenticator_app')),
    sa.UniqueConstraint('person_id', name=op.f('uq_authenticator_app_person_id'))
    )
    op.create_table('webauthn_user',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('user_handle', sa.String(length=88), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_webauthn_user_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_webauthn_user')),
    sa.UniqueConstraint('user_handle', name=op.f('uq_webauthn_user_user_handle'))
    )
    op.create_table('passkey',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.JSON(), nullable=True),
    sa.Column('backup_eligible', sa.Boolean(), nullable=False),
    sa.Column('backed_up', sa.Boolean(), nullable=False),
    sa.Column('aaguid', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('last_used_at', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_passkey_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passkey')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_passkey_credential_id'))
    )
    with op.batch_alter_table('passkey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passkey_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('passkey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passkey_person_id'))
    op.drop_table('passkey')
    op.drop_table('webauthn_user')
    op.drop_table('authenticator_app')
