"""The only place Mastodon JSON is built: one function per entity, named ``*_to_api``,
from typed inputs (storage rows and service views) to the TypedDicts of
``fedinode.api.entities``.

One module per family of entities, as ``fedinode.api.entities`` has them; this package
names every public function, so callers write ``schemas.status_to_api``."""

from fedinode.api.schemas.accounts import (
    account_to_api,
    credential_account_to_api,
    custom_emoji_to_api,
    emojis_to_api,
    familiar_followers_to_api,
    featured_tag_to_api,
    preferences_to_api,
    relationship_to_api,
    role_to_api,
    suggestion_to_api,
)
from fedinode.api.schemas.admin import (
    admin_account_to_api,
    admin_emoji_to_api,
    admin_report_to_api,
    domain_allow_to_api,
    domain_block_conflict_to_api,
    domain_block_impact_to_api,
    domain_block_to_api,
    domain_import_to_api,
    policy_decision_to_api,
)
from fedinode.api.schemas.filters import (
    filter_keyword_to_api,
    filter_result_to_api,
    filter_status_to_api,
    filter_to_api,
    filter_v1_to_api,
)
from fedinode.api.schemas.instance import (
    activity_to_api,
    instance_v1_to_api,
    instance_v2_to_api,
    public_domain_blocks_to_api,
    rules_to_api,
)
from fedinode.api.schemas.media import media_to_api
from fedinode.api.schemas.notifications import (
    grouped_notifications_to_json,
    notification_group_to_api,
    notification_to_api,
    notification_view_to_api,
    notifications_to_json,
    partial_account_to_api,
    unread_count_to_api,
)
from fedinode.api.schemas.oauth import (
    application_to_api,
    oauth_error_to_api,
    oauth_metadata_to_api,
    status_application_to_api,
    token_to_api,
)
from fedinode.api.schemas.push import push_subscription_to_api
from fedinode.api.schemas.replies import (
    empty_to_api,
    error_to_api,
    status_ok_to_api,
    validation_error_to_api,
)
from fedinode.api.schemas.reports import report_to_api
from fedinode.api.schemas.scheduled import scheduled_status_to_api
from fedinode.api.schemas.search import search_to_api
from fedinode.api.schemas.statuses import (
    card_to_api,
    context_to_api,
    deleted_status_to_api,
    json_array,
    kept_rows,
    poll_to_api,
    status_edit_to_api,
    status_history_to_api,
    status_json,
    status_source_to_api,
    status_to_api,
    statuses_to_api,
    statuses_to_json,
    tag_to_api,
)
from fedinode.api.schemas.streaming import stream_error_to_api, stream_message_to_api
from fedinode.api.schemas.tags import tag_entity_to_api, tag_view_to_api, trend_tag_to_api
from fedinode.api.schemas.timelines import (
    conversation_view_to_api,
    list_to_api,
    marker_to_api,
    markers_to_api,
)
from fedinode.api.schemas.times import at, iso, iso_date

__all__ = [
    "account_to_api",
    "activity_to_api",
    "admin_account_to_api",
    "admin_emoji_to_api",
    "admin_report_to_api",
    "application_to_api",
    "at",
    "card_to_api",
    "context_to_api",
    "conversation_view_to_api",
    "credential_account_to_api",
    "custom_emoji_to_api",
    "deleted_status_to_api",
    "domain_allow_to_api",
    "domain_block_conflict_to_api",
    "domain_block_impact_to_api",
    "domain_block_to_api",
    "domain_import_to_api",
    "emojis_to_api",
    "empty_to_api",
    "error_to_api",
    "familiar_followers_to_api",
    "featured_tag_to_api",
    "filter_keyword_to_api",
    "filter_result_to_api",
    "filter_status_to_api",
    "filter_to_api",
    "filter_v1_to_api",
    "grouped_notifications_to_json",
    "instance_v1_to_api",
    "instance_v2_to_api",
    "iso",
    "iso_date",
    "json_array",
    "kept_rows",
    "list_to_api",
    "marker_to_api",
    "markers_to_api",
    "media_to_api",
    "notification_group_to_api",
    "notification_to_api",
    "notification_view_to_api",
    "notifications_to_json",
    "oauth_error_to_api",
    "oauth_metadata_to_api",
    "partial_account_to_api",
    "policy_decision_to_api",
    "poll_to_api",
    "preferences_to_api",
    "public_domain_blocks_to_api",
    "push_subscription_to_api",
    "relationship_to_api",
    "report_to_api",
    "role_to_api",
    "rules_to_api",
    "scheduled_status_to_api",
    "search_to_api",
    "status_application_to_api",
    "status_edit_to_api",
    "status_history_to_api",
    "status_json",
    "status_ok_to_api",
    "status_source_to_api",
    "status_to_api",
    "statuses_to_api",
    "statuses_to_json",
    "stream_error_to_api",
    "stream_message_to_api",
    "suggestion_to_api",
    "tag_entity_to_api",
    "tag_to_api",
    "tag_view_to_api",
    "token_to_api",
    "trend_tag_to_api",
    "unread_count_to_api",
    "validation_error_to_api",
]
