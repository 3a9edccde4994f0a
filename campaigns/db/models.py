"""The tables. The database is the source of truth; the broker only carries work.

Times are stored in UTC. Email addresses are kept only on `subscribers`; suppressions and events carry a keyed
fingerprint (`email_key`, campaigns.addresses).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # Every model here is mapped to one plain Table (no joined or selectable mappings), so say so to the type
    # checker: the send path hands `Model.__table__` to Core statements and the SQL helpers.
    __table__: ClassVar[Table]

    # Named constraints, so later migrations can drop or alter them (SQLite batch mode needs the names).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    # draft -> scheduled -> running <-> paused -> completed; any -> archived
    status: Mapped[str] = mapped_column(String(20), default="draft")
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    window_start_hour: Mapped[int] = mapped_column(Integer, default=9)
    window_end_hour: Mapped[int] = mapped_column(Integer, default=17)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    track_opens: Mapped[bool] = mapped_column(Boolean, default=False)
    track_clicks: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    versions: Mapped[list[CampaignVersion]] = relationship(back_populates="campaign", order_by="CampaignVersion.number")


class CampaignVersion(Base):
    """An immutable snapshot of a campaign's steps; every edit makes a new one."""

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    article_source: Mapped[str] = mapped_column(Text)  # the article text the steps were planned from
    article_format: Mapped[str] = mapped_column(String(10))  # text | markdown | html
    # The series as staff shaped it (campaigns.authoring.draft.SeriesDraft as JSON); None in versions made before it.
    series: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    campaign: Mapped[Campaign] = relationship(back_populates="versions")
    steps: Mapped[list[StepRow]] = relationship(back_populates="version", order_by="StepRow.number")


class StepRow(Base):
    """One step of one version, with its content compiled once (HTML and text with %%slot%% markers)."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("version_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("campaign_versions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    preheader: Mapped[str] = mapped_column(String(300))
    delay_days: Mapped[int] = mapped_column(Integer)
    sections: Mapped[list[str]] = mapped_column(JSON)
    words: Mapped[int] = mapped_column(Integer)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[CampaignVersion] = relationship(back_populates="steps")


class Subscriber(Base):
    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))  # as normalised; None once erased
    # the keyed fingerprint of the address (campaigns.addresses); "erased-<id>" once erased
    email_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The name to greet by, when the subscriber gave one (a first-name field); else it is read off `name`.
    first_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # ISO 3166-1 alpha-2, where known (an import column): crisis lines fit it; else the time zone's country.
    country: Mapped[str | None] = mapped_column(String(2))
    # pending (awaiting double opt-in) | active | unsubscribed | bounced | complained | erased
    status: Mapped[str] = mapped_column(String(20), default="active")
    consent_source: Mapped[str | None] = mapped_column(String(200))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribe_source: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignupRequest(Base):
    """One sign-up request that was sent a confirmation email. Its link confirms this request once (`used_at`),
    and never after the person unsubscribed later; the name, time zone and consent details asked for wait here, not
    on the subscriber, until the link is clicked."""

    __tablename__ = "signup_requests"
    __table_args__ = (Index("ix_signup_requests_subscriber", "subscriber_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    nonce: Mapped[int] = mapped_column(BigInteger)  # also in the signed link: a reused row id cannot match it
    name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(40))  # signup form | api
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Tag(Base):
    """A label staff put on subscribers (imported, added by hand or in bulk); names are trimmed and lower-cased."""

    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriberTag(Base):
    __tablename__ = "subscriber_tags"
    # By tag first as well: "everyone tagged X" (filters, bulk changes, enrolment) walks this index by subscriber id.
    __table_args__ = (Index("ix_subscriber_tags_tag", "tag_id", "subscriber_id"),)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)


class SubscriberImport(Base):
    """A CSV uploaded in the admin: the file until it is imported, how to read it, and what the import did.

    The file is kept in the database (any web process can run or resume the import) and emptied once it is done.
    """

    __tablename__ = "subscriber_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(1))
    header: Mapped[list[str]] = mapped_column(JSON, default=list)
    mapping: Mapped[list[str]] = mapped_column(JSON, default=list)  # a field name (or "ignore") per column
    default_timezone: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[str | None] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    # uploaded -> checked (dry run) -> running -> done | failed
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    rows_done: Mapped[int] = mapped_column(Integer, default=0)  # data rows read and committed so far
    report: Mapped[dict] = mapped_column(JSON, default=dict)  # the last dry run's or the import's counts and problems
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a running import's process renews this
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        Index("ix_enrollments_due", "status", "next_due_at"),
        # One person's enrollments (their page, an unsubscribe, exports): the unique index leads with the campaign.
        Index("ix_enrollments_subscriber", "subscriber_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    next_step: Mapped[int] = mapped_column(Integer, default=1)  # the step to send next
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # active | completed | stopped (unsubscribed, suppressed, removed)
    status: Mapped[str] = mapped_column(String(20), default="active")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The pace the reader chose from an email's links (campaigns.delivery.pacing): "usual" (the series' own delays)
    # or "weekly" (at least 7 days between emails); `held_until`: they asked for a break from this series.
    pace: Mapped[str] = mapped_column(String(10), default="usual", server_default="usual")
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SendBatch(Base):
    """Up to a thousand deliveries of one campaign step, created together and handed to one worker task.

    The leases live here, one row per batch: `queued` (handed out; taken up again when `lease_until` runs out),
    `sending` (claimed by a worker; its deliveries are taken back when the lease runs out), `done`. Each delivery
    keeps its own status (campaigns.delivery.state), but no index covers it, so its moves are HOT updates on
    PostgreSQL: the tick finds work through this small table, not through the deliveries."""

    __tablename__ = "send_batches"
    __table_args__ = (Index("ix_send_batches_status_lease", "status", "lease_until"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | sending | done
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One email: unique per (enrollment, step), so a second attempt to create it is a no-op."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step_number"),
        Index("ix_deliveries_batch", "batch_id"),
        # No index on a column that changes after the row is made (status, message id: events find a delivery by
        # its address key first), and room on each page for the row's next versions: its moves are HOT updates.
        {"postgresql_with": {"fillfactor": 50}},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    # The enrollment's campaign, copied for queries by campaign; no foreign key of its own: the enrollment's
    # already ties it (and deletes it with the campaign), and a second check would lock the one campaign row for
    # every delivery the tick inserts.
    campaign_id: Mapped[int] = mapped_column(Integer)
    # The batch it was created in (None: a test send's, or made before batches); no foreign key, as no row of
    # send_batches is ever deleted while its deliveries wait, and the check would cost every insert a lookup.
    batch_id: Mapped[int | None] = mapped_column(Integer)
    step_number: Mapped[int] = mapped_column(Integer)
    version_number: Mapped[int | None] = mapped_column(Integer)  # the version actually sent
    # queued -> sending -> submitting -> accepted -> delivered | bounced | ...; or failed | unknown | cancelled
    status: Mapped[str] = mapped_column(String(20), default="queued")
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    # The random local part of the email's Message-ID, decided when the row is made: every attempt carries the same.
    message_token: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # before 0009; leases are on send_batches
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReaderEvent(Base):
    """Something a reader did from an email's own links: a pacing choice, or a click on the call to action (our
    redirect). Recorded by us, never by the provider; the step is the email the link was in."""

    __tablename__ = "reader_events"
    __table_args__ = (
        Index("ix_reader_events_campaign", "campaign_id", "step_number", "kind"),
        Index("ix_reader_events_subscriber", "subscriber_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_number: Mapped[int] = mapped_column(Integer)
    # pace_next | pace_weekly | pace_pause | pace_usual | pace_resume | cta_click
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class LessonFeedback(Base):
    """A reader's answer to "Was this useful?" for one email: one row per subscriber and email, the last answer
    counts. The comment is for staff only and is never sent anywhere."""

    __tablename__ = "lesson_feedback"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "campaign_id", "step_number"),
        Index("ix_lesson_feedback_campaign", "campaign_id", "step_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_number: Mapped[int] = mapped_column(Integer)
    useful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(String(300))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contact(Base):
    """A person reached out (a call, a text, a form: what the clinic logs, imported from a CSV), matched to a
    subscriber and put down to the last email they had or read before it (`campaign_id`, `step_number`)."""

    __tablename__ = "contacts"
    __table_args__ = (
        # The same call logged twice (a file imported again) is one contact.
        UniqueConstraint("subscriber_id", "contacted_at", "channel"),
        Index("ix_contacts_campaign", "campaign_id", "step_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    step_number: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(255))  # the file it came from
    imported_by: Mapped[str] = mapped_column(String(120))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suppression(Base):
    """Addresses never to be mailed again, kept as a hash so that erasure leaves no address behind."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(40))  # unsubscribed | hard_bounce | complaint | erased | manual | ...
    source: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """One normalised delivery event (from a webhook, an SMTP refusal or an outbox write), with its raw payload."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_delivery", "delivery_id"),
        Index("ix_events_kind_time", "kind", "occurred_at"),
        Index("ix_events_email_key", "email_key"),
        Index("ix_events_unprocessed", "processed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_event_id: Mapped[str | None] = mapped_column(String(200), unique=True)  # sg_event_id: dedupe key
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    step_number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    email_key: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raw: Mapped[dict] = mapped_column(JSON, default=dict)
    # Set once reactions (suppression, delivery status) have been applied; NULL rows are found again by the sweep.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SetAsideEvent(Base):
    """A webhook event we could not read or store (signed, so from the provider, but malformed): kept raw (clipped,
    addresses replaced by their key) for an admin to look at, instead of failing the whole batch."""

    __tablename__ = "set_aside_events"
    __table_args__ = (Index("ix_set_aside_events_received", "received_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    email_key: Mapped[str | None] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateLimit(Base):
    """One rate-limited thing (an address, a client network, a login source): the times of its recent hits.
    Shared by every process through the database (campaigns.rate_limits)."""

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_expires", "expires_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(200), unique=True)
    hits: Mapped[list[float]] = mapped_column(JSON, default=list)  # POSIX seconds, oldest first
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyCheck(Base):
    """A fingerprint of each secret the stored data depends on (OUTREACH_ADDRESS_KEY), to refuse a changed one."""

    __tablename__ = "key_checks"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subscriber", "subscriber_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # What staff did to one person (pause, unsubscribe, erase, tags); the detail never holds their address.
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffUser(Base):
    """A person who signs in to the admin, with a role: owner (everything, and the team), editor (everything but the
    team), viewer (looks, changes nothing)."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased: the sign-in name
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None until set from the invitation
    # sha256 of a one-time link to set the password (an invitation, or a reset an owner made), until it is used
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A signed-in browser, kept on the server so that signing out, a new password or a disabled account ends it
    everywhere. The cookie holds a random token; only its sha256 is stored here."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    # None: the bootstrap owner (OUTREACH_ADMIN_PASSWORD_HASH), until the first staff account exists
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    credential: Mapped[str] = mapped_column(String(16))  # fingerprint of the password hash it was opened with
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
