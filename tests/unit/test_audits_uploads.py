"""Upload checks: type by content, size limits, HEIC conversion, EXIF GPS, harmless names."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from coop_audit.audits import uploads


def image_bytes(fmt="JPEG", size=(320, 240), gps=None) -> bytes:
    img = Image.new("RGB", size, (10, 90, 200))
    exif = Image.Exif()
    if gps:
        exif.get_ifd(0x8825).update(gps)
    out = io.BytesIO()
    img.save(out, fmt, **({"exif": exif} if fmt == "JPEG" else {}))
    return out.getvalue()


def test_a_jpeg_is_accepted_with_a_thumbnail_and_its_exif_position():
    data = image_bytes(gps={1: "S", 2: (7.0, 36.0, 0.0), 3: "E", 4: (111.0, 0.0, 36.0)})
    p = uploads.prepare(data, "IMG_0001.JPG")
    assert (p.kind, p.mime, p.ext) == ("photo", "image/jpeg", "jpg")
    assert (p.exif_lat, p.exif_lng) == (-7.6, 111.01)
    thumb = Image.open(io.BytesIO(p.thumb))
    assert max(thumb.size) <= 480 and thumb.format == "JPEG"


def test_a_png_is_accepted_and_a_photo_without_gps_has_no_position():
    p = uploads.prepare(image_bytes("PNG"), "scan.png")
    assert (p.mime, p.exif_lat, p.exif_lng) == ("image/png", None, None)


def test_a_heic_photo_is_converted_to_jpeg():
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(out, "HEIF")
    p = uploads.prepare(out.getvalue(), "IMG_1234.HEIC")
    assert (p.mime, p.converted_from, p.display_name) == ("image/jpeg", "heic", "IMG_1234.jpg")
    assert Image.open(io.BytesIO(p.data)).format == "JPEG"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("foto.jpg", b"\x7fELF\x02\x01\x01" + bytes(200), "not a JPEG"),
        ("foto.jpg", b"MZ\x90\x00" + bytes(200), "not a JPEG"),
        ("kosong.jpg", b"", "empty"),
        ("besar.jpg", b"\xff\xd8\xff\xe0" + bytes(uploads.PHOTO_MAX_BYTES), "too large"),
        ("rusak.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 50, "not a readable photo"),
        ("surat.pdf", b"%PDF-1.7\nnot really a pdf", "not a readable PDF"),
        ("besar.pdf", b"%PDF-1.7\n" + bytes(uploads.PDF_MAX_BYTES), "too large"),
        ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", "passwd"),
    ],
    ids=["elf", "exe", "empty", "big_photo", "bad_png", "bad_pdf", "big_pdf", "passwd"],
)
def test_bad_files_are_refused_with_a_message_naming_the_file(name, data, words):
    with pytest.raises(uploads.UploadRefused) as e:
        uploads.prepare(data, name)
    assert words in e.value.message
    assert "/" not in e.value.name


def test_a_decompression_bomb_is_refused():
    # A tiny PNG whose header claims 20000 x 20000 pixels (IHDR patched, CRC recomputed).
    import struct
    import zlib

    data = bytearray(image_bytes("PNG", size=(8, 8)))
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", 20000, 20000)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    data = bytes(data)
    with pytest.raises(uploads.UploadRefused):
        uploads.prepare(data, "bomb.png")


@pytest.mark.parametrize(
    ("client_name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\foto.jpg", "foto.jpg"),
        ("..", "file"),
        ("a\x00b\nc.jpg", "abc.jpg"),
        ("", "file"),
        ("x" * 300, "x" * 120),
    ],
)
def test_client_names_become_harmless_labels(client_name, shown):
    assert uploads.display_name(client_name) == shown


def test_stored_names_are_random_and_never_paths(tmp_path):
    p = uploads.prepare(image_bytes(), "../../x.jpg")
    a, thumb_a, paths_a = uploads.write(p, tmp_path)
    b, _, _ = uploads.write(p, tmp_path)
    assert a != b and "x" not in a.split(".")[0].strip("0123456789abcdef")
    assert all(path.parent == tmp_path / "audits" for path in paths_a)
    assert thumb_a.endswith(".thumb.jpg")
    for bad in ("../secret", "a/b", ".hidden", ""):
        with pytest.raises(FileNotFoundError):
            uploads.path_of(tmp_path, bad)
