"""Evidence files: checked by content, size-limited, stored under random names outside the web root.

`read_upload(stream)` reads one upload (no more than a limit allows) and measures its real size;
`prepare(data, client_name, size=...)` checks it in memory and returns a `Prepared` (or raises
`UploadRefused` with a message for the user); nothing touches the disk until `write(...)`.
The client's file name is only ever kept, cleaned, as a display label: never as a path.
"""

from __future__ import annotations

import hashlib
import io
import math
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

PHOTO_MAX_BYTES = 15 * 1024 * 1024
PDF_MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 60_000_000  # a 60-megapixel photo is already more than any phone takes
TOO_MANY_PIXELS = "too many pixels"
THUMB_SIZE = (480, 480)
FILES_PER_AUDIT = 40

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}


class UploadRefused(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass
class Prepared:
    kind: str  # photo | document
    mime: str
    ext: str
    data: bytes
    sha256: str
    display_name: str
    thumb: bytes | None = None
    width: int | None = None
    height: int | None = None
    exif_lat: float | None = None
    exif_lng: float | None = None
    exif_taken_at: str | None = None
    converted_from: str | None = None


def display_name(client_name: str | None) -> str:
    """A harmless label from the client's name: last path part, no control characters."""
    name = (client_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return (name or "file")[:120]


def sniff(data: bytes) -> str | None:
    """The file type by its first bytes: jpeg, png, pdf, heif or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    return None


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"


def _size(n: int) -> str:
    """A file's size for a refusal: rounded up, so a file just over "20 MB" never reads 20.0 MB."""
    return f"{math.ceil(n * 10 / (1024 * 1024)) / 10:.1f} MB"


def read_upload(stream: IO[bytes], chunk: int = 1024 * 1024) -> tuple[bytes, int]:
    """(the bytes to check, the real size) of one upload.

    A file over every limit is refused anyway: only its first bytes are kept (enough to say what
    it is) and the rest is counted, not kept, so the refusal can state the size the user sees.
    """
    data = stream.read(max(PHOTO_MAX_BYTES, PDF_MAX_BYTES) + 1)
    size = len(data)
    while more := stream.read(chunk):
        size += len(more)
    return data, size


def prepare(data: bytes, client_name: str | None, *, size: int | None = None) -> Prepared:
    """Check one upload; `size` is its real size when `data` is only its beginning."""
    label = display_name(client_name)
    size = len(data) if size is None else max(size, len(data))
    if not data:
        raise UploadRefused(label, _("%(name)s is empty (0 bytes).", name=label))
    kind = sniff(data)
    if kind is None:
        raise UploadRefused(
            label,
            _(
                "%(name)s is not a JPEG, PNG or HEIC photo or a PDF document "
                "(the content was checked, not the name).",
                name=label,
            ),
        )
    if kind == "pdf":
        return _prepare_pdf(data, label, size)
    if size > PHOTO_MAX_BYTES:
        raise UploadRefused(
            label,
            _(
                "%(name)s is too large for a photo (%(size)s; at most %(max)s).",
                name=label,
                size=_size(size),
                max=_mb(PHOTO_MAX_BYTES),
            ),
        )
    return _prepare_photo(data, label, kind)


def _prepare_pdf(data: bytes, label: str, size: int) -> Prepared:
    if size > PDF_MAX_BYTES:
        raise UploadRefused(
            label,
            _(
                "%(name)s is too large for a document (%(size)s; at most %(max)s).",
                name=label,
                size=_size(size),
                max=_mb(PDF_MAX_BYTES),
            ),
        )
    if _pdf_pages(data) < 1:
        raise UploadRefused(label, _("%(name)s is not a readable PDF document.", name=label))
    return Prepared(
        kind="document",
        mime="application/pdf",
        ext="pdf",
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        display_name=label,
    )


def _pdf_pages(data: bytes) -> int:
    """How many pages a PDF reader finds (0: damaged, or not a PDF past its first bytes)."""
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return len(PdfReader(io.BytesIO(data), strict=False).pages)
    except Exception:  # pypdf raises many kinds on damaged files
        return 0


def file_problem(data: bytes, *, max_pixels: int = 0) -> str | None:
    """Whether a PDF, JPEG or PNG file opens as what its first bytes claim (a receipt scan, a
    logo): None when it does, "pixels" for an image larger than MAX_PIXELS (a 1200 dpi scan),
    "damaged" otherwise (a header followed by garbage is not a document)."""
    kind = sniff(data)
    if kind == "pdf":
        return None if _pdf_pages(data) >= 1 else "damaged"
    if kind not in ("jpeg", "png"):
        return "damaged"
    try:
        _open_image(data, kind, max_pixels).verify()
        _open_image(data, kind, max_pixels).load()
    except ValueError as e:
        return "pixels" if str(e) == TOO_MANY_PIXELS else "damaged"
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return "damaged"
    except Image.DecompressionBombWarning:
        return "pixels"
    return None


def _open_image(data: bytes, kind: str, max_pixels: int = 0) -> Image.Image:
    """Open (not decode) an image; more than `max_pixels` (default MAX_PIXELS) is refused."""
    if kind == "heif":
        import pillow_heif

        pillow_heif.register_heif_opener()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > (max_pixels or MAX_PIXELS):
            raise ValueError(TOO_MANY_PIXELS)
        return img


def _prepare_photo(data: bytes, label: str, kind: str) -> Prepared:
    bad = _("%(name)s is not a readable photo (the file is damaged or not an image).", name=label)
    try:
        _open_image(data, kind).verify()  # structure check; the image must be reopened after
        img = _open_image(data, kind)
        img.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UploadRefused(label, bad) from None
    except Image.DecompressionBombWarning:
        raise UploadRefused(label, bad) from None
    except ImportError:
        raise UploadRefused(
            label, _("%(name)s is a HEIC photo; please send it as JPEG.", name=label)
        ) from None
    exif = img.getexif()
    lat, lng = exif_gps(exif)
    taken = exif.get_ifd(0x8769).get(36867) or exif.get(306)
    converted_from = None
    if kind == "heif":
        # Stored as JPEG so every browser and the PDF report can show it; EXIF kept.
        out = io.BytesIO()
        rgb = img.convert("RGB")
        rgb.save(out, "JPEG", quality=88, exif=exif.tobytes() if exif else b"")
        data = out.getvalue()
        kind, converted_from = "jpeg", "heic"
        label = label.rsplit(".", 1)[0] + ".jpg"
    thumb = _thumbnail(img)
    return Prepared(
        kind="photo",
        mime="image/jpeg" if kind == "jpeg" else "image/png",
        ext="jpg" if kind == "jpeg" else "png",
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        display_name=label,
        thumb=thumb,
        width=img.width,
        height=img.height,
        exif_lat=lat,
        exif_lng=lng,
        exif_taken_at=str(taken)[:30] if taken else None,
        converted_from=converted_from,
    )


def _thumbnail(img: Image.Image) -> bytes:
    t = ImageOps.exif_transpose(img.copy())
    t.thumbnail(THUMB_SIZE)
    out = io.BytesIO()
    t.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _ratio(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den)


def exif_gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    """Decimal latitude/longitude from EXIF GPS tags, or (None, None)."""
    try:
        gps = exif.get_ifd(0x8825)
    except (KeyError, ValueError, TypeError):
        return None, None
    try:
        lat_ref, lat, lng_ref, lng = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not (lat and lng):
            return None, None

        def deg(v) -> float:
            d, m, s = (_ratio(x) for x in v)
            return d + m / 60 + s / 3600

        la, lo = deg(lat), deg(lng)
        if str(lat_ref).upper().startswith("S"):
            la = -la
        if str(lng_ref).upper().startswith("W"):
            lo = -lo
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            return None, None
        return round(la, 7), round(lo, 7)
    except (TypeError, ValueError, ZeroDivisionError):
        return None, None


# ---------------------------------------------------------------- storage


def audit_dir(upload_dir: str | Path) -> Path:
    return Path(upload_dir) / "audits"


def write(prepared: Prepared, upload_dir: str | Path) -> tuple[str, str | None, list[Path]]:
    """Write the file (and its thumbnail) under fresh random names; returns names and paths."""
    folder = audit_dir(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    stored = f"{token}.{prepared.ext}"
    written: list[Path] = []
    try:
        _atomic_write(folder / stored, prepared.data)
        written.append(folder / stored)
        thumb_name = None
        if prepared.thumb is not None:
            thumb_name = f"{token}.thumb.jpg"
            _atomic_write(folder / thumb_name, prepared.thumb)
            written.append(folder / thumb_name)
    except OSError:
        remove(written)
        raise
    return stored, thumb_name, written


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        tmp.replace(path)
    except OSError:
        # A full disk leaves a half-written .part file: never keep it.
        tmp.unlink(missing_ok=True)
        raise


def remove(paths: list[Path]) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def path_of(upload_dir: str | Path, stored_name: str) -> Path:
    """The path of a stored file; names come from the database, and are checked anyway."""
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name[0] == ".":
        raise FileNotFoundError(stored_name)
    return audit_dir(upload_dir) / stored_name
