"""Issuing letters: numbers, stored bytes, what each issued kind prints, void, receipt."""

import hashlib
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coop_audit import history
from coop_audit import settings as office_settings
from coop_audit.extensions import db
from coop_audit.letters import operations as ops
from coop_audit.models import HistoryEvent
from coop_audit.models.letters import Letter, LetterSequence
from coop_audit.permissions import PermissionDenied
from tests.conftest import pdf_bytes

TODAY = date(2026, 12, 3)
# A real 1x1 PNG (an earlier one here had a broken data stream: the logo check now opens it).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63606060f80f00010401005fe5c34b0000000049454e44ae426082"
)


def text_of(pdf: bytes) -> str:
    raw = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", raw)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def coop(make_coop):
    return make_coop(
        name="KSU Sido Makmur",
        bh_number="518.08/96/BH/XIV.10/VIII/2008",
        status="dormant",
        street="Jalan Raya Jaten Km 2",
        desa_kode="33.13.11.2001",
    )


def issue(kind, coop, signer, **extras):
    letter = ops.issue_letter(kind, coop, signer=signer, today=TODAY, extras=extras or None)
    db.session.commit()
    return letter


@pytest.mark.parametrize(
    ("kind", "extras", "phrase"),
    [
        (
            "warning",
            {"grounds": ["tidak menyelenggarakan RAT 3 tahun buku"]},
            "dalam jangka waktu 2 (dua) bulan sejak tanggal surat ini diterima",
        ),
        ("revocation", {"grounds": ["tidak menyelenggarakan RAT"]}, "MEMUTUSKAN"),
        (
            "objection_decision",
            {"objection_accepted": False, "objection_reasons": ["bukti RAT tidak ada"]},
            "DITOLAK",
        ),
        ("reactivation", {"reason": "Koperasi telah melaksanakan RAT."}, None),
        ("reinstatement", {"reason": "Keputusan dibatalkan."}, None),
    ],
)
def test_each_issued_kind_prints_number_coop_bh_date_signer_and_deadline(
    app, users, coop, kind, extras, phrase
):
    letter = issue(kind, coop, users["head2"], **extras)
    text = text_of(letter.pdf)
    expected = "500.3/1/KEP/DKUKTESDM/2026" if kind == "revocation" else "500.3/1/DKUKTESDM/2026"
    assert letter.number == expected
    assert letter.number in text
    assert "KSU Sido Makmur" in text
    assert "518.08/96/BH/XIV.10/VIII/2008" in squeeze(text)
    assert "3 Desember 2026" in text
    assert "Dr. Siti Rahma, M.Si." in text
    assert "NIP. 19750202 200003 2 002" in text
    assert letter.short_code in text
    if phrase:
        assert phrase in text


def test_the_upward_proposal_lists_revoked_cooperatives_with_their_decisions(app, users, make_coop):
    revoked = make_coop(name="KUD Tani Maju", bh_number="77/BH/2001", status="license_revoked")
    make_coop(name="Koperasi Masih Aktif", status="active")
    rev = issue("revocation", revoked, users["head2"], grounds=["tidak aktif"])
    letter = ops.issue_proposal(signer=users["head2"], today=TODAY)
    db.session.commit()
    text = text_of(letter.pdf)
    assert letter.kind == "proposal" and letter.cooperative_id is None
    assert letter.number in text
    assert "KUD Tani Maju" in text and "77/BH/2001" in squeeze(text)
    assert rev.number in squeeze(text)
    assert "Koperasi Masih Aktif" not in text
    assert "3 Desember 2026" in text and "NIP. 19750202 200003 2 002" in text


def test_letters_share_a_series_decisions_have_their_own_and_years_restart(
    app, users, coop, make_coop
):
    other = make_coop()
    a = issue("warning", coop, users["head"])
    b = issue("reactivation", other, users["head"], reason="RAT")
    c = issue("revocation", coop, users["head"])
    assert (a.seq, b.seq, c.seq) == (1, 2, 1)
    assert len({a.number, b.number, c.number}) == 3
    later = ops.issue_letter("warning", coop, signer=users["head"], today=date(2027, 1, 2))
    assert (later.year, later.seq) == (2027, 1)


def test_a_rolled_back_issue_does_not_use_up_a_number(app, users, coop):
    issue("warning", coop, users["head"])
    ops.issue_letter("warning", coop, signer=users["head"], today=TODAY)
    db.session.rollback()
    again = issue("warning", coop, users["head"])
    assert again.seq == 2
    row = db.session.get(LetterSequence, ("surat", 2026))
    assert row.last_seq == 2


def test_only_the_head_issues_letters(app, users, coop):
    with pytest.raises(PermissionDenied):
        ops.issue_letter("warning", coop, signer=users["clerk"], today=TODAY)


def test_stored_bytes_hash_and_tokens(app, users, coop):
    letter = issue("warning", coop, users["head"])
    db.session.expire_all()
    stored = db.session.get(Letter, letter.id)
    assert hashlib.sha256(stored.pdf).hexdigest() == stored.sha256
    assert len(stored.token) >= 32
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", stored.short_code)
    kinds = [e.kind for e in db.session.execute(select(HistoryEvent)).scalars()]
    assert "letter_issued" in kinds
    assert history.verify().ok


def test_letters_keep_the_settings_they_were_issued_with(app, users, coop):
    first = issue("warning", coop, users["head2"])
    office_settings.put("letters.unit_code", "DINKOP", users["admin"])
    office_settings.put("letters.letterhead_lines", ["PEMKAB BARU"], users["admin"])
    second = issue("warning", coop, users["head2"])
    assert "DKUKTESDM" in first.number and "DINKOP" in second.number
    assert first.snapshot["settings"]["letterhead_lines"][0] == "PEMERINTAH KABUPATEN KARANGANYAR"
    assert "PEMKAB BARU" not in text_of(first.pdf)
    assert "PEMKAB BARU" in text_of(second.pdf)


def test_an_empty_signer_name_prints_the_signing_head_and_a_set_one_wins(app, users, coop):
    office_settings.put("letters.signer_name", "Ir. BAMBANG, M.M.", users["admin"])
    office_settings.put("letters.signer_nip", "196801011990031005", users["admin"])
    office_settings.put("letters.signer_prefix", "Plt.", users["admin"])
    text = text_of(issue("warning", coop, users["head2"]).pdf)
    assert "Ir. BAMBANG, M.M." in text and "NIP. 19680101 199003 1 005" in text
    assert "Plt. KEPALA DINAS" in text


def test_a_hostile_cooperative_name_prints_literally(app, users, make_coop):
    coop = make_coop(name="<script>alert(1)</script> {{ 7*7 }}")
    text = text_of(issue("warning", coop, users["head"]).pdf)
    assert "<script>alert(1)</script> {{ 7*7 }}" in text


def test_draft_preview_is_watermarked_and_takes_no_number(app, users, coop):
    pdf = ops.preview_letter("warning", coop, signer=users["head2"], today=TODAY)
    assert "DRAF" in text_of(pdf)
    assert db.session.get(LetterSequence, ("surat", 2026)) is None
    assert db.session.execute(select(Letter)).first() is None


def test_voiding_keeps_the_number_and_needs_a_reason(app, users, coop):
    letter = issue("warning", coop, users["head"])
    with pytest.raises(ops.LetterError) as e:
        ops.void_letter(letter, users["clerk"], "  ")
    assert e.value.field == "reason"
    with pytest.raises(PermissionDenied):
        ops.void_letter(letter, users["inspector"], "salah alamat")
    ops.void_letter(letter, users["clerk"], "salah alamat koperasi")
    db.session.commit()
    assert letter.is_void and letter.number == "500.3/1/DKUKTESDM/2026"
    nxt = issue("warning", coop, users["head"])
    assert nxt.seq == 2  # the void number is never reused


def test_a_receipt_starts_the_clock_and_is_recorded_in_the_history(app, users, coop):
    letter = issue("warning", coop, users["head"])
    ops.record_receipt(
        letter,
        users["clerk"],
        method="hand",
        today=date(2026, 12, 10),
        received_on=date(2026, 12, 9),
        receiver="Sutrisno (ketua)",
        scan=(scan := pdf_bytes()),
    )
    db.session.commit()
    assert letter.clock_start == date(2026, 12, 9)
    assert ops.scan_path(letter).read_bytes() == scan
    assert str(ops.scan_path(letter)).startswith(app.config["UPLOAD_DIR"])
    ev = db.session.execute(select(HistoryEvent).where(HistoryEvent.kind == "receipt")).scalar_one()
    assert ev.data["receipt_date"] == "2026-12-09" and ev.cooperative_id == coop.id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "hand", "received_on": None, "receiver": "X"}, "received_on"),
        ({"method": "hand", "received_on": date(2026, 12, 5), "receiver": ""}, "receiver"),
        ({"method": "post", "received_on": date(2027, 1, 5), "receiver": "X"}, "received_on"),
        ({"method": "post", "received_on": date(2026, 11, 1), "receiver": "X"}, "received_on"),
        ({"method": "announcement", "announced_on": None}, "announced_on"),
        ({"method": "fax", "received_on": date(2026, 12, 5), "receiver": "X"}, "method"),
        (
            {"method": "hand", "received_on": date(2026, 12, 5), "receiver": "X", "scan": b"MZ"},
            "scan",
        ),
    ],
)
def test_bad_receipts_are_refused_naming_the_field(app, users, coop, kwargs, field):
    letter = issue("warning", coop, users["head"])
    with pytest.raises(ops.LetterError) as e:
        ops.record_receipt(letter, users["clerk"], today=date(2026, 12, 10), **kwargs)
    assert e.value.field == field
    db.session.rollback()
    assert db.session.get(Letter, letter.id).clock_start is None


def test_an_announcement_starts_the_clock_on_its_start_date(app, users, coop):
    letter = issue("warning", coop, users["head"])
    ops.record_receipt(
        letter,
        users["clerk"],
        method="announcement",
        today=date(2026, 12, 20),
        announced_on=date(2026, 12, 15),
    )
    assert letter.clock_start == date(2026, 12, 15) and letter.receipt_date is None


def test_logo_is_checked_by_content_and_size(app, users):
    with pytest.raises(ops.LetterError):
        ops.save_logo(b"GIF89a....", users["admin"])
    with pytest.raises(ops.LetterError):
        ops.save_logo(PNG_1PX + b"\0" * ops.LOGO_MAX_BYTES, users["admin"])
    with pytest.raises(PermissionDenied):
        ops.save_logo(PNG_1PX, users["clerk"])
    ops.save_logo(PNG_1PX, users["admin"])
    assert ops.current_settings()["logo"]


def test_a_bad_number_pattern_is_refused(app, users):
    with pytest.raises(ops.LetterError) as e:
        ops.save_settings({"number_pattern": "{code}/{nomor}/{year}"}, users["admin"])
    assert e.value.field == "number_pattern"
    with pytest.raises(ops.LetterError):
        ops.save_settings({"number_pattern": "{code}/{year}"}, users["admin"])


def test_bulk_issue_numbers_in_order_and_merges_to_one_pdf(app, users, make_coop):
    coops = [make_coop(status="warned") for _ in range(10)]
    letters = ops.issue_letters(
        [ops.IssueItem("revocation", c, extras={"grounds": ["x"]}) for c in coops],
        signer=users["head"],
        today=TODAY,
        workers=2,
    )
    db.session.commit()
    assert [letter.seq for letter in letters] == list(range(1, 11))
    for c, letter in zip(coops, letters, strict=True):
        assert c.name in text_of(letter.pdf)
    merged = ops.merged_pdf([letter.id for letter in letters])
    reader = PdfReader(io.BytesIO(merged))
    assert len(reader.pages) == sum(len(PdfReader(io.BytesIO(x.pdf)).pages) for x in letters)
    assert history.verify().ok


def test_a_logo_with_more_pixels_than_a_letterhead_needs_is_refused(app, users):
    """A 20 mm logo needs nowhere near 4 megapixels; a larger one would be decoded in full."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (2500, 2000), 1).save(out, "PNG")  # 5 megapixels in a few KB
    with pytest.raises(ops.LetterError, match="terlalu banyak piksel .paling banyak 4 juta"):
        ops.save_logo(out.getvalue(), users["admin"])
    assert not ops.current_settings()["logo"]
