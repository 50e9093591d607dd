"""The Mastodon client API route table: one flat list, path → handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fedinode.api import (
    accounts,
    instance,
    notifications,
    statuses,
    timelines,
)
from fedinode.api import streaming as streaming_api
from fedinode.first_use import FirstUse, first_use_routes
from fedinode.trailing_slash import accept_trailing_slash
from fedinode.web.admin.routes import ROUTES as ADMIN_PANEL_ROUTES

if TYPE_CHECKING:  # mypy checks every name in the table against the modules themselves
    from fedinode.api import admin_accounts as admin_accounts_api
    from fedinode.api import (
        admin_domains,
        admin_emojis,
        apps,
        misc,
        oauth,
        scheduled_statuses,
        user,
    )
    from fedinode.api import admin_reports as admin_reports_api
    from fedinode.api import conversations as conversations_api
    from fedinode.api import filters as filters_api
    from fedinode.api import followed_tags as followed_tags_api
    from fedinode.api import lists as lists_api
    from fedinode.api import markers as markers_api
    from fedinode.api import media as media_api
    from fedinode.api import push as push_api
    from fedinode.api import registrations as registrations_api
    from fedinode.api import reports as reports_api
    from fedinode.api import search as search_api
    from fedinode.api import suggestions as suggestions_api
    from fedinode.web import account_pages, pages, robots, settings_pages, sign_in, sign_up
else:
    admin_domains = FirstUse("fedinode.api.admin_domains")
    admin_emojis = FirstUse("fedinode.api.admin_emojis")
    apps = FirstUse("fedinode.api.apps")
    misc = FirstUse("fedinode.api.misc")
    oauth = FirstUse("fedinode.api.oauth")
    scheduled_statuses = FirstUse("fedinode.api.scheduled_statuses")
    user = FirstUse("fedinode.api.user")
    admin_accounts_api = FirstUse("fedinode.api.admin_accounts")
    admin_reports_api = FirstUse("fedinode.api.admin_reports")
    conversations_api = FirstUse("fedinode.api.conversations")
    filters_api = FirstUse("fedinode.api.filters")
    followed_tags_api = FirstUse("fedinode.api.followed_tags")
    lists_api = FirstUse("fedinode.api.lists")
    markers_api = FirstUse("fedinode.api.markers")
    media_api = FirstUse("fedinode.api.media")
    push_api = FirstUse("fedinode.api.push")
    registrations_api = FirstUse("fedinode.api.registrations")
    reports_api = FirstUse("fedinode.api.reports")
    search_api = FirstUse("fedinode.api.search")
    suggestions_api = FirstUse("fedinode.api.suggestions")
    account_pages = FirstUse("fedinode.web.account_pages")
    pages = FirstUse("fedinode.web.pages")
    robots = FirstUse("fedinode.web.robots")
    settings_pages = FirstUse("fedinode.web.settings_pages")
    sign_in = FirstUse("fedinode.web.sign_in")
    sign_up = FirstUse("fedinode.web.sign_up")

_ID = r"{id:\d+}"
# Routes whose modules say which handler serves them (their ``ROUTES``; a test checks these
# paths are theirs), imported at the first request to one of them.
POLICY_ADMIN: dict[str, tuple[tuple[str, str], ...]] = {
    "fedinode.api.admin_policy_lists": (
        ("GET", "/policy/list.json"),
        ("GET", "/policy/list.csv"),
        ("GET", "/api/v1/admin/policy/published"),
        ("POST", "/api/v1/admin/policy/publish"),
        ("POST", "/api/v1/admin/policy/unpublish"),
        ("POST", "/api/v1/admin/policy/adopt"),
        ("GET", "/api/v1/admin/domain_permission_subscriptions"),
        ("POST", "/api/v1/admin/domain_permission_subscriptions"),
        ("GET", f"/api/v1/admin/domain_permission_subscriptions/{_ID}"),
        ("PATCH", f"/api/v1/admin/domain_permission_subscriptions/{_ID}"),
        ("DELETE", f"/api/v1/admin/domain_permission_subscriptions/{_ID}"),
        ("POST", f"/api/v1/admin/domain_permission_subscriptions/{_ID}/test"),
        ("POST", f"/api/v1/admin/domain_permission_subscriptions/{_ID}/sync"),
        ("GET", "/api/v1/admin/domain_permission_drafts"),
        ("GET", f"/api/v1/admin/domain_permission_drafts/{_ID}"),
        ("POST", f"/api/v1/admin/domain_permission_drafts/{_ID}/accept"),
        ("POST", f"/api/v1/admin/domain_permission_drafts/{_ID}/remove"),
    ),
    "fedinode.api.admin_quarantine": (
        ("GET", "/api/v1/admin/quarantine"),
        ("GET", "/api/v1/admin/quarantine/{host:[^/]+}"),
        ("POST", "/api/v1/admin/quarantine/{host:[^/]+}/release"),
        ("POST", "/api/v1/admin/quarantine/{host:[^/]+}/reject"),
    ),
}

# A path tail of one or more segments; never ends with "/", so "…/" is the slashed form.
_TAIL = r"[^/]+(?:/[^/]+)*"


def add_routes(app: web.Application) -> None:
    table = [
        ("GET", "/api/v1/instance", instance.get_instance_v1),
        ("GET", "/api/v2/instance", instance.get_instance_v2),
        ("GET", "/api/v1/instance/peers", instance.get_instance_peers),
        ("GET", "/api/v1/instance/rules", instance.get_instance_rules),
        # OAuth 2 and apps
        ("POST", "/api/v1/apps", apps.create_app),
        ("GET", "/api/v1/apps/verify_credentials", apps.verify_app_credentials),
        ("GET", "/oauth/authorize", oauth.authorize_form),
        ("POST", "/oauth/authorize", oauth.authorize_submit),
        ("POST", "/oauth/token", oauth.token),
        ("POST", "/oauth/revoke", oauth.revoke),
        ("GET", "/.well-known/oauth-authorization-server", oauth.authorization_server_metadata),
        ("POST", "/api/v1/user/password_change", user.password_change),  # GoToSocial's
        # -- core client API: accounts, statuses, timelines, notifications --
        ("GET", "/api/v1/accounts/verify_credentials", accounts.verify_credentials),
        ("PATCH", "/api/v1/accounts/update_credentials", accounts.update_credentials),
        ("GET", "/api/v1/accounts/lookup", accounts.lookup_account),
        ("GET", "/api/v1/accounts/search", accounts.search_accounts),
        ("GET", "/api/v1/accounts/relationships", accounts.relationships),
        ("GET", "/api/v1/accounts/familiar_followers", accounts.familiar_followers),
        ("GET", "/api/v1/accounts", accounts.get_accounts),
        ("GET", r"/api/v1/accounts/{id:\d+}", accounts.get_account),
        ("GET", r"/api/v1/accounts/{id:\d+}/statuses", accounts.account_statuses),
        ("GET", r"/api/v1/accounts/{id:\d+}/followers", accounts.account_followers),
        ("GET", r"/api/v1/accounts/{id:\d+}/following", accounts.account_following),
        ("GET", r"/api/v1/accounts/{id:\d+}/featured_tags", accounts.account_featured_tags),
        ("GET", r"/api/v1/accounts/{id:\d+}/endorsements", accounts.account_endorsements),
        ("POST", r"/api/v1/accounts/{id:\d+}/follow", accounts.follow_account),
        ("POST", r"/api/v1/accounts/{id:\d+}/unfollow", accounts.unfollow_account),
        (
            "POST",
            r"/api/v1/accounts/{id:\d+}/remove_from_followers",
            accounts.remove_from_followers,
        ),
        ("POST", r"/api/v1/accounts/{id:\d+}/block", accounts.block_account),
        ("POST", r"/api/v1/accounts/{id:\d+}/unblock", accounts.unblock_account),
        ("POST", r"/api/v1/accounts/{id:\d+}/mute", accounts.mute_account),
        ("POST", r"/api/v1/accounts/{id:\d+}/unmute", accounts.unmute_account),
        ("POST", r"/api/v1/accounts/{id:\d+}/note", accounts.account_note),
        ("GET", "/api/v1/follow_requests", accounts.follow_requests),
        ("POST", r"/api/v1/follow_requests/{id:\d+}/authorize", accounts.authorize_follow_request),
        ("POST", r"/api/v1/follow_requests/{id:\d+}/reject", accounts.reject_follow_request),
        ("GET", "/api/v1/blocks", accounts.blocks),
        ("GET", "/api/v1/mutes", accounts.mutes),
        ("GET", "/api/v1/domain_blocks", accounts.get_domain_blocks),
        ("POST", "/api/v1/domain_blocks", accounts.block_domain),
        ("DELETE", "/api/v1/domain_blocks", accounts.unblock_domain),
        ("GET", "/api/v1/bookmarks", accounts.bookmarks),
        ("GET", "/api/v1/favourites", accounts.favourites),
        ("GET", "/api/v1/featured_tags", accounts.featured_tags),
        ("POST", "/api/v1/featured_tags", accounts.feature_tag),
        ("DELETE", r"/api/v1/featured_tags/{id:\d+}", accounts.unfeature_tag),
        ("GET", "/api/v1/endorsements", accounts.endorsements),
        ("GET", "/api/v1/preferences", misc.get_preferences),
        ("POST", "/api/v1/statuses", statuses.post_status),
        ("GET", r"/api/v1/statuses/{id:\d+}", statuses.get_status),
        ("GET", r"/api/v1/statuses/{id:\d+}/card", statuses.get_status_card),
        ("DELETE", r"/api/v1/statuses/{id:\d+}", statuses.delete_status),
        ("PUT", r"/api/v1/statuses/{id:\d+}", statuses.edit_status),
        ("GET", r"/api/v1/statuses/{id:\d+}/history", statuses.status_history),
        ("GET", r"/api/v1/statuses/{id:\d+}/source", statuses.status_source),
        ("GET", r"/api/v1/statuses/{id:\d+}/context", statuses.status_context),
        ("GET", r"/api/v1/statuses/{id:\d+}/reblogged_by", statuses.reblogged_by),
        ("GET", r"/api/v1/statuses/{id:\d+}/favourited_by", statuses.favourited_by),
        ("POST", r"/api/v1/statuses/{id:\d+}/favourite", statuses.favourite_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/unfavourite", statuses.unfavourite_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/reblog", statuses.reblog_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/unreblog", statuses.unreblog_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/bookmark", statuses.bookmark_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/unbookmark", statuses.unbookmark_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/pin", statuses.pin_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/unpin", statuses.unpin_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/mute", statuses.mute_status),
        ("POST", r"/api/v1/statuses/{id:\d+}/unmute", statuses.unmute_status),
        ("GET", r"/api/v1/polls/{id:\d+}", statuses.get_poll),
        ("POST", r"/api/v1/polls/{id:\d+}/votes", statuses.vote_poll),
        ("GET", "/api/v1/timelines/home", timelines.home_timeline),
        ("GET", "/api/v1/timelines/public", timelines.public_timeline),
        ("GET", "/api/v1/timelines/tag/{hashtag}", timelines.tag_timeline),
        ("GET", "/api/v1/notifications", notifications.list_notifications),
        ("GET", "/api/v1/notifications/unread_count", notifications.unread_count),
        ("POST", "/api/v1/notifications/clear", notifications.clear_notifications),
        ("GET", r"/api/v1/notifications/{id:\d+}", notifications.get_notification),
        ("POST", r"/api/v1/notifications/{id:\d+}/dismiss", notifications.dismiss_notification),
        ("GET", "/api/v2/notifications", notifications.list_grouped_notifications),
        ("GET", "/api/v2/notifications/unread_count", notifications.grouped_unread_count),
        ("POST", "/api/v2/notifications/{group_key}/dismiss", notifications.dismiss_group),
        ("GET", "/api/v2/notifications/{group_key}", notifications.get_notification_group),
        (
            "GET",
            "/api/v2/notifications/{group_key}/accounts",
            notifications.notification_group_accounts,
        ),
        ("GET", "/api/v1/custom_emojis", admin_emojis.custom_emojis),
        ("GET", "/api/v1/announcements", misc.announcements),
        ("GET", "/api/v1/trends", misc.trends_tags),
        ("GET", "/api/v1/trends/tags", misc.trends_tags),
        ("GET", "/api/v1/trends/statuses", misc.trends_empty),
        ("GET", "/api/v1/trends/links", misc.trends_empty),
        ("GET", "/api/v1/instance/activity", misc.instance_activity),
        ("GET", r"/static/{name:(?:avatar|header)\.png}", misc.default_image),
        # -- end core client API --
        # -- extras: media, streaming, search, lists, filters, markers, admin, pages --
        ("POST", "/api/v2/media", media_api.upload_media_v2),
        ("POST", "/api/v1/media", media_api.upload_media_v1),
        ("GET", "/api/v1/media/{id}", media_api.get_media),
        ("PUT", "/api/v1/media/{id}", media_api.update_media),
        ("DELETE", "/api/v1/media/{id}", media_api.delete_media),
        ("GET", "/api/v1/scheduled_statuses", scheduled_statuses.list_scheduled_statuses),
        ("GET", r"/api/v1/scheduled_statuses/{id:\d+}", scheduled_statuses.get_scheduled_status),
        ("PUT", r"/api/v1/scheduled_statuses/{id:\d+}", scheduled_statuses.update_scheduled_status),
        (
            "DELETE",
            r"/api/v1/scheduled_statuses/{id:\d+}",
            scheduled_statuses.delete_scheduled_status,
        ),
        ("GET", "/media/{path:" + _TAIL + "}", media_api.serve_media_file),
        ("GET", "/api/v1/streaming/health", streaming_api.health),
        ("GET", "/api/v1/streaming", streaming_api.streaming_root),
        ("GET", "/api/v1/streaming/{stream:" + _TAIL + "}", streaming_api.stream_sse),
        ("GET", "/api/v2/filters", filters_api.list_filters),
        ("POST", "/api/v2/filters", filters_api.create_filter),
        ("GET", "/api/v2/filters/keywords/{id}", filters_api.get_keyword),
        ("PUT", "/api/v2/filters/keywords/{id}", filters_api.update_keyword),
        ("DELETE", "/api/v2/filters/keywords/{id}", filters_api.delete_keyword),
        ("GET", "/api/v2/filters/statuses/{id}", filters_api.get_filter_status),
        ("DELETE", "/api/v2/filters/statuses/{id}", filters_api.delete_filter_status),
        ("GET", "/api/v2/filters/{id}", filters_api.get_filter),
        ("PUT", "/api/v2/filters/{id}", filters_api.update_filter),
        ("DELETE", "/api/v2/filters/{id}", filters_api.delete_filter),
        ("GET", "/api/v2/filters/{id}/keywords", filters_api.list_keywords),
        ("POST", "/api/v2/filters/{id}/keywords", filters_api.add_keyword),
        ("GET", "/api/v2/filters/{id}/statuses", filters_api.list_filter_statuses),
        ("POST", "/api/v2/filters/{id}/statuses", filters_api.add_filter_status),
        ("GET", "/api/v1/filters", filters_api.list_filters_v1),
        ("POST", "/api/v1/filters", filters_api.create_filter_v1),
        ("GET", "/api/v1/filters/{id}", filters_api.get_filter_v1),
        ("PUT", "/api/v1/filters/{id}", filters_api.update_filter_v1),
        ("DELETE", "/api/v1/filters/{id}", filters_api.delete_filter_v1),
        ("GET", "/api/v1/lists", lists_api.get_lists),
        ("POST", "/api/v1/lists", lists_api.create_list),
        ("GET", "/api/v1/lists/{id}", lists_api.get_list),
        ("PUT", "/api/v1/lists/{id}", lists_api.update_list),
        ("DELETE", "/api/v1/lists/{id}", lists_api.delete_list),
        ("GET", "/api/v1/lists/{id}/accounts", lists_api.list_accounts),
        ("POST", "/api/v1/lists/{id}/accounts", lists_api.add_list_accounts),
        ("DELETE", "/api/v1/lists/{id}/accounts", lists_api.remove_list_accounts),
        ("GET", "/api/v1/timelines/list/{id}", lists_api.list_timeline),
        ("GET", "/api/v1/accounts/{id}/lists", lists_api.account_lists),
        ("GET", "/api/v1/markers", markers_api.get_markers),
        ("POST", "/api/v1/markers", markers_api.save_markers),
        ("POST", "/api/v1/push/subscription", push_api.create_push_subscription),
        ("GET", "/api/v1/push/subscription", push_api.get_push_subscription),
        ("PUT", "/api/v1/push/subscription", push_api.update_push_subscription),
        ("DELETE", "/api/v1/push/subscription", push_api.delete_push_subscription),
        ("GET", "/api/v2/search", search_api.search_v2),
        ("GET", "/api/v1/tags/{name}", followed_tags_api.get_tag),
        ("POST", "/api/v1/tags/{name}/follow", followed_tags_api.follow_tag),
        ("POST", "/api/v1/tags/{name}/unfollow", followed_tags_api.unfollow_tag),
        ("GET", "/api/v1/followed_tags", followed_tags_api.followed_tags),
        ("GET", "/api/v2/suggestions", suggestions_api.suggestions_v2),
        ("GET", "/api/v1/suggestions", suggestions_api.suggestions_v1),
        ("DELETE", "/api/v1/suggestions/{account_id}", suggestions_api.dismiss_suggestion),
        ("GET", "/api/v1/conversations", conversations_api.list_conversations),
        ("POST", "/api/v1/conversations/{id}/read", conversations_api.read_conversation),
        ("DELETE", "/api/v1/conversations/{id}", conversations_api.remove_conversation),
        ("POST", "/api/v1/reports", reports_api.create_report),
        ("GET", "/api/v1/admin/accounts", admin_accounts_api.list_accounts_v1),
        ("GET", "/api/v2/admin/accounts", admin_accounts_api.list_accounts_v2),
        ("GET", "/api/v1/admin/accounts/{id}", admin_accounts_api.get_account),
        ("DELETE", "/api/v1/admin/accounts/{id}", admin_accounts_api.delete_account),
        ("POST", "/api/v1/admin/accounts/{id}/approve", admin_accounts_api.approve_account),
        ("POST", "/api/v1/admin/accounts/{id}/reject", admin_accounts_api.reject_account),
        ("POST", "/api/v1/admin/accounts/{id}/action", admin_accounts_api.account_action),
        ("POST", "/api/v1/admin/accounts/{id}/enable", admin_accounts_api.enable_account),
        ("POST", "/api/v1/admin/accounts/{id}/unsilence", admin_accounts_api.unsilence_account),
        ("POST", "/api/v1/admin/accounts/{id}/unsuspend", admin_accounts_api.unsuspend_account),
        ("POST", "/api/v1/admin/accounts/{id}/unsensitive", admin_accounts_api.unsensitive_account),
        ("GET", "/api/v1/admin/reports", admin_reports_api.list_reports),
        ("GET", "/api/v1/admin/reports/{id}", admin_reports_api.get_report),
        ("POST", "/api/v1/admin/reports/{id}/assign_to_self", admin_reports_api.assign_report),
        ("POST", "/api/v1/admin/reports/{id}/unassign", admin_reports_api.unassign_report),
        ("POST", "/api/v1/admin/reports/{id}/resolve", admin_reports_api.resolve_report),
        ("POST", "/api/v1/admin/reports/{id}/reopen", admin_reports_api.reopen_report),
        ("GET", "/api/v1/admin/custom_emojis", admin_emojis.list_emojis),
        ("POST", "/api/v1/admin/custom_emojis", admin_emojis.create_emoji),
        ("GET", r"/api/v1/admin/custom_emojis/{id:\d+}", admin_emojis.get_emoji),
        ("PATCH", r"/api/v1/admin/custom_emojis/{id:\d+}", admin_emojis.update_emoji),
        ("DELETE", r"/api/v1/admin/custom_emojis/{id:\d+}", admin_emojis.delete_emoji),
        ("GET", "/@{username}", pages.profile_page),
        ("GET", "/@{username}/{id}", pages.status_page),
        ("GET", "/", pages.landing_page),
        ("GET", "/about", pages.landing_page),
        ("GET", "/tags/{name}", pages.tag_page),
        ("GET", "/static/thumbnail.png", pages.thumbnail),
        ("GET", "/robots.txt", robots.robots_txt),
        # -- end extras --
        # -- policy: domain blocks, allows, decisions --
        ("GET", "/api/v1/instance/domain_blocks", instance.get_instance_domain_blocks),
        ("GET", "/api/v1/admin/domain_blocks", admin_domains.list_domain_blocks),
        ("POST", "/api/v1/admin/domain_blocks", admin_domains.create_domain_block),
        ("GET", "/api/v1/admin/domain_blocks/preview", admin_domains.preview_domain_block),
        ("GET", "/api/v1/admin/domain_blocks/export", admin_domains.export_domain_blocks),
        ("POST", "/api/v1/admin/domain_blocks/import", admin_domains.import_domain_blocks),
        ("GET", r"/api/v1/admin/domain_blocks/{id:\d+}", admin_domains.get_domain_block),
        ("PUT", r"/api/v1/admin/domain_blocks/{id:\d+}", admin_domains.update_domain_block),
        ("DELETE", r"/api/v1/admin/domain_blocks/{id:\d+}", admin_domains.delete_domain_block),
        ("GET", "/api/v1/admin/domain_allows", admin_domains.list_domain_allows),
        ("POST", "/api/v1/admin/domain_allows", admin_domains.create_domain_allow),
        ("GET", r"/api/v1/admin/domain_allows/{id:\d+}", admin_domains.get_domain_allow),
        ("DELETE", r"/api/v1/admin/domain_allows/{id:\d+}", admin_domains.delete_domain_allow),
        ("GET", "/api/v1/admin/policy", admin_domains.get_policy),
        ("GET", "/api/v1/admin/policy/decisions", admin_domains.list_policy_decisions),
        *first_use_routes(POLICY_ADMIN),
        # -- end policy --
        # -- sign-up, invites, e-mail confirmation, password reset --
        ("POST", "/api/v1/accounts", registrations_api.create_account),
        ("POST", "/api/v1/emails/confirmations", registrations_api.resend_confirmation),
        ("GET", "/api/v1/admin/invites", registrations_api.list_invites),
        ("POST", "/api/v1/admin/invites", registrations_api.create_invite),
        ("GET", r"/api/v1/admin/invites/{id:\d+}", registrations_api.get_invite),
        ("DELETE", r"/api/v1/admin/invites/{id:\d+}", registrations_api.revoke_invite),
        ("GET", "/invite/{code}", account_pages.invite_page),
        ("POST", "/invite/{code}", account_pages.invite_submit),
        ("GET", "/auth/confirm", account_pages.confirm_page),
        ("GET", "/auth/password/reset", account_pages.reset_request_page),
        ("POST", "/auth/password/reset", account_pages.reset_request_submit),
        ("GET", "/auth/password/edit", account_pages.reset_edit_page),
        ("POST", "/auth/password/edit", account_pages.reset_edit_submit),
        ("GET", "/auth/sign_up", sign_up.sign_up_page),
        ("POST", "/auth/sign_up", sign_up.sign_up_submit),
        # -- end sign-up --
        # -- web login and settings --
        ("GET", "/auth/sign_in", sign_in.sign_in_page),
        ("POST", "/auth/sign_in", sign_in.sign_in_submit),
        ("POST", "/auth/sign_out", sign_in.sign_out),
        ("GET", "/settings", settings_pages.account_page),
        ("POST", "/settings/password", settings_pages.password_submit),
        ("POST", "/settings/language", settings_pages.language_submit),
        ("GET", "/settings/sessions", settings_pages.sessions_page),
        ("POST", r"/settings/sessions/{id:\d+}/revoke", settings_pages.revoke_app_session),
        ("POST", r"/settings/web_sessions/{id:\d+}/revoke", settings_pages.revoke_browser_session),
        ("GET", "/settings/two_factor", settings_pages.two_factor_page),
        ("POST", "/settings/two_factor/setup", settings_pages.two_factor_setup),
        ("POST", "/settings/two_factor/confirm", settings_pages.two_factor_confirm),
        ("POST", "/settings/two_factor/disable", settings_pages.two_factor_disable),
        # -- end web login and settings --
        # -- the admin panel --
        *ADMIN_PANEL_ROUTES,
        # -- end admin panel --
    ]
    for method, path, handler in table:
        app.router.add_route(method, path, handler)
    # Every route, these and the S2S ones, also answers with a trailing slash (no redirect).
    accept_trailing_slash(app.router)
