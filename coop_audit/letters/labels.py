"""Display labels for letter kinds and delivery methods (translated lazily)."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "warning": _l("Warning"),
    "revocation": _l("Revocation decision"),
    "objection_decision": _l("Objection decision"),
    "reactivation": _l("Reactivation"),
    "reinstatement": _l("Reinstatement"),
    "proposal": _l("Dissolution proposal"),
}

METHOD_LABELS = {
    "hand": _l("By hand"),
    "post": _l("By post"),
    "announcement": _l("Public announcement"),
}

# A batch print run's state, as the clerk reads it in the list of recent runs.
JOB_STATUS_LABELS = {
    "queued": _l("waiting"),
    "running": _l("printing"),
    "done": _l("ready"),
    "failed": _l("failed"),
}
JOB_STATUS_CSS = {
    "queued": "text-bg-secondary",
    "running": "text-bg-info",
    "done": "text-bg-success",
    "failed": "text-bg-danger",
}

EVENT_LABELS = {
    "letter_issued": _l("Letter issued"),
    "letter_voided": _l("Letter voided"),
    "receipt": _l("Letter received"),
    "receipt_corrected": _l("Receipt corrected"),
    "letter_reissued": _l("Letter issued again"),
}
