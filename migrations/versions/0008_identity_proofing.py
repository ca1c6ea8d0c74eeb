"""identity proofing: the evidence ledger, one account per NHS number, the synthetic PDS and GP system

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 16:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proofing_evidence',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('level', sa.String(length=2), nullable=True),
    sa.Column('checked_by', sa.String(length=80), nullable=False),
    sa.Column('nhs_number', sa.String(length=10), nullable=True),
    sa.Column('pds_version', sa.String(length=20), nullable=True),
    sa.Column('document_type', sa.String(length=40), nullable=True),
    sa.Column('staff_member', sa.String(length=36), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_proofing_evidence_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proofing_evidence'))
    )
    with op.batch_alter_table('proofing_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proofing_evidence_person_id'), ['person_id'], unique=False)
    op.create_table('synthetic_patient',
    sa.Column('nhs_number', sa.String(length=10), nullable=False),
    sa.Column('birthdate', sa.String(length=10), nullable=True),
    sa.Column('resource', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('nhs_number', name=op.f('pk_synthetic_patient'))
    )
    with op.batch_alter_table('synthetic_patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_synthetic_patient_birthdate'), ['birthdate'], unique=False)
    op.create_table('synthetic_gp_account',
    sa.Column('ods_code', sa.String(length=10), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('nhs_number', sa.String(length=10), nullable=False),
    sa.Column('linkage_key', sa.String(length=60), nullable=False),
    sa.Column('id_checked_on', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('ods_code', 'account_id', name=op.f('pk_synthetic_gp_account'))
    )
    with op.batch_alter_table('synthetic_gp_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_synthetic_gp_account_nhs_number'), ['nhs_number'], unique=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pds_version', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('pds_restricted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('gp_credentials', sa.Text(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_person_nhs_number'))
        batch_op.create_index(batch_op.f('ix_person_nhs_number'), ['nhs_number'], unique=True)
    # People already above P0 keep their level; the ledger says where it came from, so that no level
    # stands above its evidence (issue 8).
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, proofing_level, nhs_number FROM person WHERE proofing_level <> 'P0'")).all()
    if rows:
        import time
        import uuid

        evidence = sa.table('proofing_evidence', sa.column('detail', sa.JSON), *(sa.column(name) for name in (
            'id', 'person_id', 'at', 'seq', 'route', 'outcome', 'level', 'checked_by', 'nhs_number')))
        at = int(time.time())
        op.bulk_insert(evidence, [{
            'id': str(uuid.uuid4()), 'person_id': person_id, 'at': at, 'seq': 1, 'route': 'operator',
            'outcome': 'level_set', 'level': level, 'checked_by': 'migration:0008', 'nhs_number': nhs_number,
            'detail': {'reason': 'the level held before the evidence ledger existed'},
        } for person_id, level, nhs_number in rows])


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_nhs_number'))
        batch_op.create_index(batch_op.f('ix_person_nhs_number'), ['nhs_number'], unique=False)
        batch_op.drop_column('gp_credentials')
        batch_op.drop_column('pds_restricted')
        batch_op.drop_column('pds_version')
    with op.batch_alter_table('synthetic_gp_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_synthetic_gp_account_nhs_number'))
    op.drop_table('synthetic_gp_account')
    with op.batch_alter_table('synthetic_patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_synthetic_patient_birthdate'))
    op.drop_table('synthetic_patient')
    with op.batch_alter_table('proofing_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proofing_evidence_person_id'))
    op.drop_table('proofing_evidence')
