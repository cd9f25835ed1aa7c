"""Display labels for stored codes (jenis, bentuk, status), translated lazily."""

from flask_babel import lazy_gettext as _l

JENIS_LABELS = {
    "simpan_pinjam": _l("Savings and loan"),
    "konsumen": _l("Consumer"),
    "produsen": _l("Producer"),
    "pemasaran": _l("Marketing"),
    "jasa": _l("Services"),
}

BENTUK_LABELS = {"primer": _l("Primary"), "sekunder": _l("Secondary")}

STATUS_LABELS = {
    "active": _l("Active"),
    "dormant": _l("Dormant"),
    "warned": _l("Warned"),
    "license_revoked": _l("License revoked"),
}

STATUS_CSS = {
    "active": "text-bg-success",
    "dormant": "text-bg-warning",
    "warned": "text-bg-danger",
    "license_revoked": "text-bg-dark",
}

KELOMPOK_SUGGESTIONS = (
    "KUD",
    "KSU",
    "KSP",
    "KPRI",
    "Kopkar",
    "Koperasi Wanita",
    "Kopontren",
    "Koptan",
    "Credit Union",
    "Koperasi Produsen",
    "Koperasi Pemasaran",
    "Koperasi Konsumen",
    "Koperasi Jasa",
    "Koperasi Desa/Kelurahan Merah Putih",
)

# History event kinds -> label; features add theirs with EVENT_LABELS.update(...).
EVENT_LABELS = {
    "created": _l("Added to the register"),
    "updated": _l("Data corrected"),
    "imported": _l("Updated by import"),
    "setting_changed": _l("Setting changed"),
    "user_created": _l("User created"),
    "user_changed": _l("User changed"),
}
