"""photo ID submissions and their encrypted media

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 19:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photo_id_submission',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('digits', sa.String(length=4), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=36), nullable=True),
    sa.Column('claim_expires_at', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('vendor_reference', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_photo_id_submission_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_id_submission')),
    sa.UniqueConstraint('vendor_reference', name=op.f('uq_photo_id_submission_vendor_reference'))
    )
    with op.batch_alter_table('photo_id_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_id_submission_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_id_submission_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_id_submission_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_id_submission_expires_at'), ['expires_at'], unique=False)
    op.create_table('proofing_media',
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['photo_id_submission.id'], name=op.f('fk_proofing_media_submission_id_photo_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'kind', name=op.f('pk_proofing_media'))
    )


def downgrade():
    op.drop_table('proofing_media')
    with op.batch_alter_table('photo_id_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_id_submission_expires_at'))
        batch_op.drop_index(batch_op.f('ix_photo_id_submission_due_at'))
        batch_op.drop_index(batch_op.f('ix_photo_id_submission_status'))
        batch_op.drop_index(batch_op.f('ix_photo_id_submission_person_id'))
    op.drop_table('photo_id_submission')
