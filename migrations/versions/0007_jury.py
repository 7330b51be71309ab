"""The citizen jury: categories and quotas, the pool (features apart from contacts), draws,
jurors, voting rounds, ballots and the ballot log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:47:15.504133

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jury_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_jury_category_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_category")),
        sa.UniqueConstraint(
            "consultation_id", "name", name=op.f("uq_jury_category_consultation_id_name")
        ),
    )
    with op.batch_alter_table("jury_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jury_category_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "pool_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "application",
                "import",
                name="membersource",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_pool_member_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_member")),
        sa.UniqueConstraint(
            "consultation_id", "reference", name=op.f("uq_pool_member_consultation_id_reference")
        ),
    )
    with op.batch_alter_table("pool_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_member_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "jury_quota",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("feature", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("min_count", sa.Integer(), nullable=False),
        sa.Column("max_count", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("max_count >= min_count", name=op.f("ck_jury_quota_max_not_below_min")),
        sa.CheckConstraint("min_count >= 0", name=op.f("ck_jury_quota_min_not_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["jury_category.id"],
            name=op.f("fk_jury_quota_category_id_jury_category"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_quota")),
        sa.UniqueConstraint(
            "category_id", "feature", name=op.f("uq_jury_quota_category_id_feature")
        ),
    )
    op.create_table(
        "pool_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_pool_contact_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["pool_member.id"],
            name=op.f("fk_pool_contact_member_id_pool_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_contact")),
        sa.UniqueConstraint(
            "consultation_id", "email", name=op.f("uq_pool_contact_consultation_id_email")
        ),
        sa.UniqueConstraint("member_id", name=op.f("uq_pool_contact_member_id")),
    )
    op.create_table(
        "jury_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "initial", "replacement", name="drawkind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("panel_size", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "committed",
                "running",
                "done",
                "failed",
                name="drawstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("pool_snapshot", sa.JSON(), nullable=False),
        sa.Column("pool_checksum", sa.String(length=64), nullable=False),
        sa.Column("seed_commitment", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("distribution", sa.JSON(), nullable=True),
        sa.Column("panel_index", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status != 'done' OR (drawn_at IS NOT NULL AND distribution IS NOT NULL "
            "AND panel_index IS NOT NULL)",
            name=op.f("ck_jury_draw_done_has_result"),
        ),
        sa.CheckConstraint("panel_size >= 1", name=op.f("ck_jury_draw_panel_size_positive")),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_jury_draw_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_jury_draw_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_draw")),
        sa.UniqueConstraint(
            "consultation_id", "number", name=op.f("uq_jury_draw_consultation_id_number")
        ),
    )
    with op.batch_alter_table("jury_draw", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jury_draw_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "pool_member_feature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("quota_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["jury_category.id"],
            name=op.f("fk_pool_member_feature_category_id_jury_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["pool_member.id"],
            name=op.f("fk_pool_member_feature_member_id_pool_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quota_id"],
            ["jury_quota.id"],
            name=op.f("fk_pool_member_feature_quota_id_jury_quota"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_member_feature")),
        sa.UniqueConstraint(
            "member_id", "category_id", name=op.f("uq_pool_member_feature_member_id_category_id")
        ),
    )
    with op.batch_alter_table("pool_member_feature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_member_feature_quota_id"), ["quota_id"], unique=False
        )

    op.create_table(
        "juror",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "invited",
                "accepted",
                "declined",
                name="jurorstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status != 'accepted' OR user_id IS NOT NULL",
            name=op.f("ck_juror_accepted_has_account"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_juror_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["jury_draw.id"],
            name=op.f("fk_juror_draw_id_jury_draw"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_juror_invitation_id_invitation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["pool_member.id"],
            name=op.f("fk_juror_member_id_pool_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_juror_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juror")),
        sa.UniqueConstraint("member_id", name=op.f("uq_juror_member_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_juror_user_id")),
    )
    with op.batch_alter_table("juror", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_juror_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "voting_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("bill_version_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quorum_percent", sa.Integer(), nullable=False),
        sa.Column("threshold_percent", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "open",
                "closed",
                name="roundstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("secret_key", sa.String(length=64), nullable=True),
        sa.Column("log_length", sa.Integer(), nullable=False),
        sa.Column("log_head", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status != 'closed' OR (closed_at IS NOT NULL AND results IS NOT NULL)",
            name=op.f("ck_voting_round_closed_has_results"),
        ),
        sa.CheckConstraint(
            "closes_at > opens_at", name=op.f("ck_voting_round_closes_after_opening")
        ),
        sa.CheckConstraint(
            "quorum_percent BETWEEN 0 AND 100", name=op.f("ck_voting_round_quorum_is_a_percentage")
        ),
        sa.CheckConstraint(
            "threshold_percent BETWEEN 50 AND 100",
            name=op.f("ck_voting_round_threshold_is_a_majority"),
        ),
        sa.ForeignKeyConstraint(
            ["bill_version_id"],
            ["bill_version.id"],
            name=op.f("fk_voting_round_bill_version_id_bill_version"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_voting_round_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_voting_round_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_round")),
        sa.UniqueConstraint(
            "consultation_id", "number", name=op.f("uq_voting_round_consultation_id_number")
        ),
    )
    with op.batch_alter_table("voting_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voting_round_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column(
            "choice",
            sa.Enum(
                "pour",
                "contre",
                "abstention",
                name="choice",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("casts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["voting_round.id"],
            name=op.f("fk_ballot_round_id_voting_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot")),
        sa.UniqueConstraint(
            "round_id", "voter_key", "item", name=op.f("uq_ballot_round_id_voter_key_item")
        ),
    )
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ballot_round_item_choice", ["round_id", "item", "choice"], unique=False
        )

    op.create_table(
        "ballot_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column(
            "choice",
            sa.Enum(
                "pour",
                "contre",
                "abstention",
                name="choice",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("replaces", sa.String(length=64), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["voting_round.id"],
            name=op.f("fk_ballot_log_entry_round_id_voting_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_log_entry")),
        sa.UniqueConstraint("round_id", "seq", name=op.f("uq_ballot_log_entry_round_id_seq")),
    )


def downgrade():
    op.drop_table("ballot_log_entry")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_index("ix_ballot_round_item_choice")

    op.drop_table("ballot")
    with op.batch_alter_table("voting_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voting_round_consultation_id"))

    op.drop_table("voting_round")
    with op.batch_alter_table("juror", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_juror_consultation_id"))

    op.drop_table("juror")
    with op.batch_alter_table("pool_member_feature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_member_feature_quota_id"))

    op.drop_table("pool_member_feature")
    with op.batch_alter_table("jury_draw", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_draw_consultation_id"))

    op.drop_table("jury_draw")
    op.drop_table("pool_contact")
    op.drop_table("jury_quota")
    with op.batch_alter_table("pool_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_member_consultation_id"))

    op.drop_table("pool_member")
    with op.batch_alter_table("jury_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_category_consultation_id"))

    op.drop_table("jury_category")
