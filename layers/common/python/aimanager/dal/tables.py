"""pynamodb models of the tables template.yaml declares; table names are bound from settings, not import time."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from aimanager.settings import Settings


class _Table(Model):
    class Meta:
        table_name = "unbound"  # set by bind_tables(); a call before binding fails loudly on this name


class AgentItem(_Table):
    class Meta(_Table.Meta):
        pass

    agent_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    slug = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    system_prompt = UnicodeAttribute()
    model = UnicodeAttribute()
    fallback_model = UnicodeAttribute(null=True)
    temperature = NumberAttribute(default=0.7)
    max_tokens = NumberAttribute(default=1024)
    context_window_size = NumberAttribute(default=10)
    qdrant_collection = UnicodeAttribute(null=True)
    deployment_mode = UnicodeAttribute(default="shared")
    is_whitelabel_enabled = BooleanAttribute(default=False)
    whitelabel_config = MapAttribute[str, object](null=True)
    default_branding = MapAttribute[str, object](null=True)
    output_schemas = MapAttribute[str, object](null=True)
    avatar_url = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)


class ApiKeyPrefixIndex(GlobalSecondaryIndex["UserItem"]):
    class Meta:
        index_name = "api_key_prefix-index"
        projection = AllProjection()

    api_key_prefix = UnicodeAttribute(hash_key=True)


class EmailIndex(GlobalSecondaryIndex["UserItem"]):
    class Meta:
        index_name = "email-index"
        projection = KeysOnlyProjection()

    email = UnicodeAttribute(hash_key=True)


class UserItem(_Table):
    """Every actor (§17.3): roles say what it may do; editors carry a plan and quotas, artisans a branding."""

    class Meta(_Table.Meta):
        pass

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()  # stored lower-cased; unique through the UniquenessTable guard "email#..."
    name = UnicodeAttribute(null=True)
    roles = UnicodeAttribute()  # comma-separated role names (admin, editeur, artisan, ...)
    company_name = UnicodeAttribute(null=True)
    company_info = MapAttribute[str, object](null=True)
    phone = UnicodeAttribute(null=True)
    branding = MapAttribute[str, object](null=True)
    marketplace_enabled = BooleanAttribute(default=False)
    api_key_prefix = UnicodeAttribute(null=True)
    api_key_hash = UnicodeAttribute(null=True)
    plan = UnicodeAttribute(null=True)  # starter | pro | business | enterprise
    max_deployments = NumberAttribute(null=True)  # null = the plan's default
    max_sessions_month = NumberAttribute(null=True)
    max_messages_month = NumberAttribute(null=True)
    deployments_count = NumberAttribute(default=0)  # kept by the same transaction that creates a deployment
    is_active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)

    api_key_prefix_index = ApiKeyPrefixIndex()
    email_index = EmailIndex()


class EditorDeploymentsIndex(GlobalSecondaryIndex["DeploymentItem"]):
    class Meta:
        index_name = "editor_id-index"
        projection = AllProjection()

    editor_id = UnicodeAttribute(hash_key=True)


class DeploymentItem(_Table):
    class Meta(_Table.Meta):
        pass

    deployment_key = UnicodeAttribute(hash_key=True)
    agent_id = UnicodeAttribute()
    editor_id = UnicodeAttribute()
    name = UnicodeAttribute()
    deployment_mode = UnicodeAttribute(default="shared")
    config_overlay = MapAttribute[str, object](null=True)
    branding = MapAttribute[str, object](null=True)
    dedicated_collection = UnicodeAttribute(null=True)
    # domain -> {is_wildcard, environment, is_active}: one GetItem gives the authorizer everything.
    allowed_domains = MapAttribute[str, object](null=True)
    rate_limit_per_ip = NumberAttribute(default=60)
    max_sessions_day = NumberAttribute(null=True)  # null = no daily limit (§3.3)
    max_messages_day = NumberAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)

    editor_id_index = EditorDeploymentsIndex()


class AllowedOriginItem(_Table):
    """Reverse index: a domain pattern ("app.x.fr", "*.x.fr") -> a deployment allowing it."""

    class Meta(_Table.Meta):
        pass

    domain = UnicodeAttribute(hash_key=True)
    deployment_key = UnicodeAttribute(range_key=True)
    is_active = BooleanAttribute(default=True)


class DeploymentSessionsIndex(GlobalSecondaryIndex["SessionItem"]):
    class Meta:
        index_name = "deployment_key-index"
        projection = KeysOnlyProjection()

    deployment_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ArtisanSessionsIndex(GlobalSecondaryIndex["SessionItem"]):
    class Meta:
        index_name = "artisan_id-index"
        projection = AllProjection()

    artisan_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class SessionItem(_Table):
    class Meta(_Table.Meta):
        pass

    session_id = UnicodeAttribute(hash_key=True)
    deployment_key = UnicodeAttribute()
    agent_id = UnicodeAttribute()
    editor_id = UnicodeAttribute()
    origin = UnicodeAttribute(null=True)
    context = MapAttribute[str, object](null=True)
    locale = UnicodeAttribute(null=True)
    messages_count = NumberAttribute(default=0)
    files_count = NumberAttribute(null=True)  # accepted files (spec §15.2D: at most 10 per session)
    # §17.3: the artisan the session is for and the editor link it came through (share-link sessions).
    artisan_id = UnicodeAttribute(null=True)
    link_id = UnicodeAttribute(null=True)
    share_jti = UnicodeAttribute(null=True)  # the share link (ShareLinksTable) that opened it
    share_expires_at = UnicodeAttribute(null=True)
    # The host of the site whose page opened it: the session is usable from that site only (domain/session_access).
    origin_host = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_activity_at = UnicodeAttribute()

    deployment_key_index = DeploymentSessionsIndex()
    artisan_id_index = ArtisanSessionsIndex()


class MessageItem(_Table):
    """One chat turn: the user's message and, once answered, the assistant's reply (spec's Message pair).

    Keyed by session so the history is one Query on the base table; the reply is written onto the turn by a
    single conditional update, which is what makes a turn answered exactly once.
    """

    class Meta(_Table.Meta):
        pass

    session_id = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)  # "msg_..." (turns) or "idem#<client id>" (markers)
    deployment_key = UnicodeAttribute()
    content = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | processing | completed | failed (markers: "marker")
    # The session's binding, copied onto its turn: polling a turn's status needs no read of the session.
    share_jti = UnicodeAttribute(null=True)
    origin_host = UnicodeAttribute(null=True)
    client_message_id = UnicodeAttribute(null=True)
    context = MapAttribute[str, object](null=True)
    reply_content = UnicodeAttribute(null=True)
    reply_model = UnicodeAttribute(null=True)
    reply_tokens = NumberAttribute(null=True)
    reply_generation_time_ms = NumberAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)


class SessionFileItem(_Table):
    """A file a session uploaded (spec §15.2D): pending until our code has checked the stored object."""

    class Meta(_Table.Meta):
        pass

    session_id = UnicodeAttribute(hash_key=True)
    file_id = UnicodeAttribute(range_key=True)
    deployment_key = UnicodeAttribute()
    file_name = UnicodeAttribute()
    declared_type = UnicodeAttribute()
    content_type = UnicodeAttribute(null=True)  # sniffed from the bytes once uploaded
    size = NumberAttribute(null=True)
    status = UnicodeAttribute()  # pending | uploaded | rejected
    s3_key = UnicodeAttribute()
    thumbnail_key = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    uploaded_at = UnicodeAttribute(null=True)


class UsageItem(_Table):
    """A usage counter for one scope and one window (decision 0024), or a request marker for idempotency.

    Keys: `ip#<deployment>#<ip>#<YYYYMMDDHHMM>`, `dep#<deployment>#<YYYY-MM-DD>`, `dep#<deployment>` (lifetime),
    `ed#<editor>#<YYYY-MM>`, `link#<link>#<YYYY-MM>`, `req#<deployment>#<idempotency key>` (marker).
    """

    class Meta(_Table.Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sessions = NumberAttribute(null=True)
    messages = NumberAttribute(null=True)
    requests = NumberAttribute(null=True)
    last_activity_at = UnicodeAttribute(null=True)
    alerts = UnicodeSetAttribute(null=True)  # "sessions:80", ...: the thresholds alerted in this window
    session_id = UnicodeAttribute(null=True)  # markers: the session an idempotent init created
    opened_at = UnicodeAttribute(null=True)  # month items: when the monthly reset opened the window
    expires_at = NumberAttribute(null=True)  # TTL: housekeeping of old windows only


class EditorLinksIndex(GlobalSecondaryIndex["UserEditorLinkItem"]):
    class Meta:
        index_name = "editor_id-index"
        projection = AllProjection()

    editor_id = UnicodeAttribute(hash_key=True)
    linked_at = UnicodeAttribute(range_key=True)


class ArtisanLinksIndex(GlobalSecondaryIndex["UserEditorLinkItem"]):
    class Meta:
        index_name = "artisan_id-index"
        projection = AllProjection()

    artisan_id = UnicodeAttribute(hash_key=True)
    linked_at = UnicodeAttribute(range_key=True)


class UserEditorLinkItem(_Table):
    """An artisan linked to an editor (§17.3 user_editor_links), with that editor's branding and permissions.

    Unique (artisan, editor) and (editor, external_id) through UniquenessTable guards written in the same
    transaction; the (editor, external_id) guard names the link, so a share link finds it with one GetItem.
    """

    class Meta(_Table.Meta):
        pass

    link_id = UnicodeAttribute(hash_key=True)
    # A pending link to an email with no artisan account names nobody#<link_id>: it can never be accepted.
    artisan_id = UnicodeAttribute()
    editor_id = UnicodeAttribute()
    external_id = UnicodeAttribute()
    branding = MapAttribute[str, object](null=True)
    permissions = MapAttribute[str, object](null=True)  # can_create_sessions, can_view_analytics, max_sessions_month
    is_active = BooleanAttribute(default=True)
    # Consent (decision 0029): pending (an invitation the artisan has not answered) | active | declined.
    # Absent = active (links made before consent existed, by create-and-link or a redeemed code).
    status = UnicodeAttribute(null=True)
    invited_email = UnicodeAttribute(null=True)  # a pending link: the email the editor typed
    invite_expires_at = UnicodeAttribute(null=True)
    responded_at = UnicodeAttribute(null=True)
    linked_at = UnicodeAttribute()

    editor_id_index = EditorLinksIndex()
    artisan_id_index = ArtisanLinksIndex()


class UniqueItem(_Table):
    """A uniqueness guard ("email#a@b.fr", "ext#<editor>#<external_id>", ...): written with
    attribute_not_exists in the transaction that writes the row it protects; `ref` names that row."""

    class Meta(_Table.Meta):
        pass

    key = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute()


class ShareLinkItem(_Table):
    """One share link (§15.2B), keyed by its token's jti: a token without its record, or revoked, is refused."""

    class Meta(_Table.Meta):
        pass

    jti = UnicodeAttribute(hash_key=True)
    session_id = UnicodeAttribute()
    deployment_key = UnicodeAttribute()
    editor_id = UnicodeAttribute()
    artisan_id = UnicodeAttribute()
    link_id = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    expires_ttl = NumberAttribute()  # epoch seconds, DynamoDB TTL (a while after expiry)
    created_at = UnicodeAttribute()


class LinkCodeItem(_Table):
    """A single-use link code (§15.2A scenario 3) an editor issued; redeeming it creates the link."""

    class Meta(_Table.Meta):
        pass

    code = UnicodeAttribute(hash_key=True)
    editor_id = UnicodeAttribute()
    external_id = UnicodeAttribute()
    branding = MapAttribute[str, object](null=True)
    permissions = MapAttribute[str, object](null=True)
    expires_at = UnicodeAttribute()
    expires_ttl = NumberAttribute()
    redeemed_by = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


_BINDINGS: tuple[tuple[type[Model], str], ...] = (
    (AgentItem, "agents_table"),
    (UserItem, "users_table"),
    (DeploymentItem, "deployments_table"),
    (AllowedOriginItem, "allowed_origins_table"),
    (SessionItem, "sessions_table"),
    (MessageItem, "messages_table"),
    (SessionFileItem, "session_files_table"),
    (UsageItem, "usage_table"),
    (UserEditorLinkItem, "user_editor_links_table"),
    (UniqueItem, "uniqueness_table"),
    (ShareLinkItem, "share_links_table"),
    (LinkCodeItem, "link_codes_table"),
)


def bind_tables(settings: Settings) -> None:
    """Point each model at the physical table the environment names (only those this function declares)."""
    for model, attr in _BINDINGS:
        name = getattr(settings, attr)
        if name:
            model.Meta.table_name = name
