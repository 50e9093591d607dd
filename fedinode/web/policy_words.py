"""The words pages use for the federation policy's values (severities, queue states,
directions), marked for translation; a value without a word is shown as it is."""

from __future__ import annotations

from fedinode.web.i18n import N_

SEVERITY_NAMES = {
    "suspend": N_("Suspended"),
    "silence": N_("Limited"),
    "noop": N_("No limit"),
}
SEVERITY_CHOICES = {
    "suspend": N_("Suspend: refuse everything from it and cut every follow"),
    "silence": N_("Limit: hide its posts from those who do not follow it"),
    "noop": N_("None: only the options below"),
}
FLAG_NAMES = {
    "reject_media": N_("Reject media files"),
    "reject_reports": N_("Reject reports"),
    "federated_timeline_removal": N_("Keep its posts off the federated timeline"),
    "followers_only": N_("Show its posts to followers only"),
    "avatar_removal": N_("Remove its avatars"),
    "banner_removal": N_("Remove its header images"),
    "reject_deletes": N_("Ignore its deletions"),
    "obfuscate": N_("Obfuscate the domain in the public list"),
    "publish": N_("Publish in this server's policy list"),
}
QUARANTINE_STATES = {
    "held": N_("Waiting"),
    "released": N_("Released"),
    "rejected": N_("Rejected"),
    "all": N_("All"),
}
DIRECTION_NAMES = {
    "inbound": N_("Inbound"),
    "outbound": N_("Outbound"),
    "fetch": N_("Fetch"),
}
MODE_NAMES = {
    "apply": N_("Apply"),
    "review": N_("Review (drafts)"),
}
