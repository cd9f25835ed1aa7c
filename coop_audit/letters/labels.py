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

EVENT_LABELS = {
    "letter_issued": _l("Letter issued"),
    "letter_voided": _l("Letter voided"),
    "receipt": _l("Letter received"),
}
