"""Images the page sends: base64 data URLs inside JSON, checked for size before they are decoded.

An upload is ``{"name": "bag.jpg", "data": "data:image/jpeg;base64,..."}``. PNG, JPEG (a camera's
multi-picture JPEG too) and WebP of any size are taken; one over the byte limit is refused before decoding
(`UploadTooLarge`, HTTP 413), one with more than `MAX_PIXELS` pixels before its pixels are read, and one
larger than `MAX_SIDE` on a side is scaled down (the models fit every image to their own small square anyway),
and a photo whose EXIF says it is turned (a phone's) is turned upright, as the page shows it, into a PNG.
The file name is kept for the printed commands, but its folders, control characters and a leading ``-`` or
``.`` (an option or a hidden file to the shell); a name that had to change is offered for download as named.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import struct
import threading
import unicodedata
from pathlib import PurePath

from PIL import Image, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP")
# Pillow's format -> the upload's media type; MPO is a JPEG with more pictures after the first (many cameras').
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg", "WEBP": "image/webp"}
# A phone photo's EXIF orientation -> the turn that shows it as the browser does (TensorFlow ignores EXIF).
EXIF_ORIENTATION = 0x0112
TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
LINE_BREAKS = ("Zl", "Zp")  # with control and format characters (category C), what a name must not hold
MAX_NAME = 100  # characters of a file name kept (its extension stays)
MAX_SIDE = 2048  # larger images are scaled down to this side before they are sent
MAX_PIXELS = 50_000_000  # more pixels than this are refused unread (Pillow's bomb guard starts at 89 M)
# Scaling one down holds all its pixels, twice (a 50 M pixel PNG of 200 kB: about 300 MB); the web app's thread
# pool runs 40 requests at once, so only this many large images are decoded at a time.
LARGE_DECODES = threading.BoundedSemaphore(2)
MiB = 1 << 20


class UploadError(ValueError):
    """An upload the studio cannot use; `status` is the HTTP status to answer with."""

    status = 400


class UploadTooLarge(UploadError):
    status = 413


@dataclasses.dataclass
class Upload:
    """An image ready to send.

    Attributes:
        name: the file name the page gave (the shoes-client command refers to it).
        data: the bytes the client sends: the file as uploaded, or a PNG of the scaled-down image.
        size: ``(width, height)`` of what is sent.
        resized: whether the image was scaled down or turned upright (then `name` is the PNG's new name).
        renamed: whether `name` is not the page's (a folder, an odd character or a leading ``-`` dropped).
        media_type: the media type of `data`.
    """

    name: str
    data: bytes
    size: tuple[int, int]
    resized: bool = False
    renamed: bool = False
    media_type: str = "image/png"

    @property
    def offered(self) -> bool:
        """Whether the designer lacks a file of this name with these bytes (the page offers it with the command)."""
        return self.resized or self.renamed

    def data_url(self) -> str:
        """The bytes sent, as a data URL the page can offer for download."""
        return f"data:{self.media_type};base64," + base64.b64encode(self.data).decode("ascii")


def png_bytes(image: Image.Image) -> bytes:
    """PNG bytes of `image`, encoded as ``Image.save(path)`` encodes a ``.png`` (shoes-client's files are byte-equal)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(data: bytes | Image.Image) -> str:
    """A ``data:image/png;base64,`` URL of PNG bytes or of an image."""
    data = png_bytes(data) if isinstance(data, Image.Image) else data
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def safe_name(name, default: str = "image.png") -> str:
    """The file name a command names for an upload called `name`: its last path part (a Windows path's too),
    control characters replaced, no leading ``-`` (an option) or ``.`` (a hidden file, ``..``), at most
    `MAX_NAME` characters with its extension kept; `default` when nothing is left. Spaces and quotes stay
    (the commands quote every word)."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if unicodedata.category(c) in LINE_BREAKS or unicodedata.category(c)[0] == "C" else c for c in name)
    name = name.lstrip("-. ").rstrip()
    if len(name) > MAX_NAME:
        suffix = PurePath(name).suffix[:10]
        name = name[: MAX_NAME - len(suffix)] + suffix
    return name or default


def read_upload(field, max_bytes: int, what: str = "image") -> Upload:
    """The `Upload` of one JSON field ``{"name", "data": <data URL>}``.

    Args:
        field: the field as parsed from the request.
        max_bytes: the largest decoded size taken.
        what: the field's role, for messages ("photo", "sketch", ...).

    Raises:
        UploadTooLarge: more than `max_bytes` bytes or `MAX_PIXELS` pixels.
        UploadError: not a data URL, not base64, not a PNG, JPEG or WebP image, or a broken one.
    """
    if not isinstance(field, dict) or not isinstance(field.get("data"), str):
        raise UploadError(f"Choose the {what} first (expected an image file). Received: {type(field).__name__}")
    given = field.get("name")
    name = safe_name(given, f"{what}.png")
    header, comma, payload = field["data"].partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise UploadError(f"The {what} {name} did not arrive as a base64 data URL. Received: {header[:40]!r}")
    payload = payload.strip()
    size = len(payload) * 3 // 4 - payload[-2:].count("=")
    if size > max_bytes:
        raise UploadTooLarge(f"The {what} {name} is {size / MiB:.3g} MB; the studio takes images up to "
                             f"{max_bytes / MiB:.3g} MB (shoes-studio --max-upload-mb). Choose a smaller file.")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise UploadError(f"The {what} {name} is not valid base64 ({error}). Received: {len(payload):,} characters "
                          f"starting {payload[:16]!r}") from None
    upload = _checked_image(name, data, what)
    upload.renamed = upload.name != given
    return upload


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of `image` (1, upright, when it has none or a broken one: EXIF is only metadata)."""
    try:
        return int(image.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - Pillow's EXIF parsing of hostile files raises many kinds
        return 1


def _checked_image(name: str, data: bytes, what: str) -> Upload:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in MEDIA_TYPES:
                raise UploadError(f"The {what} {name} is a {image.format} image; the studio takes {', '.join(FORMATS)}")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadTooLarge(f"The {what} {name} has {width}x{height} pixels; the studio takes up to "
                                     f"{MAX_PIXELS / 1e6:g} million pixels")
            turn = TURNS.get(_orientation(image))
            if max(width, height) <= MAX_SIDE and turn is None:
                image.load()  # A truncated or corrupt file fails here, not later in the model.
                return Upload(name, data, (width, height), media_type=MEDIA_TYPES[image.format])
            with LARGE_DECODES:
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a fraction of the size
                small = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                small.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
                small = small.transpose(turn) if turn is not None else small
    except UploadError:
        raise
    except UnidentifiedImageError:
        raise UploadError(f"The {what} {name} is not an image the studio can read ({', '.join(FORMATS)}). "
                          f"Received: {len(data):,} bytes starting {data[:16]!r}") from None
    # Pillow's ways of failing on hostile files: a text chunk that inflates past its limit is a ValueError, a short
    # header an EOFError or struct.error, a broken stream an OSError or SyntaxError.
    except (OSError, ValueError, EOFError, struct.error, Image.DecompressionBombError, SyntaxError) as error:
        raise UploadError(f"The {what} {name} is not an image the studio can read ({', '.join(FORMATS)}): {error}") from None
    stem = PurePath(name).stem
    return Upload(f"{stem}_{small.width}x{small.height}.png", png_bytes(small), small.size, resized=True)
