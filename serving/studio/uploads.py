"""Images the page sends: base64 data URLs inside JSON, checked for size before they are decoded.

An upload is ``{"name": "bag.jpg", "data": "data:image/jpeg;base64,..."}``. PNG, JPEG and WebP of any
size are taken; one over the byte limit is refused before decoding (`UploadTooLarge`, HTTP 413), one
with more than `MAX_PIXELS` pixels before its pixels are read, and one larger than `MAX_SIDE` on a
side is scaled down (the models fit every image to their own small square anyway).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import re
from pathlib import PurePath

from PIL import Image, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP")
MAX_SIDE = 2048  # larger images are scaled down to this side before they are sent
MAX_PIXELS = 50_000_000  # more pixels than this are refused unread (Pillow's bomb guard starts at 89 M)
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
        resized: whether the image was scaled down (then `name` is the PNG's new name).
    """

    name: str
    data: bytes
    size: tuple[int, int]
    resized: bool = False

    def data_url(self) -> str:
        """The bytes sent, as a data URL the page can offer for download."""
        kind = "image/png" if self.data.startswith(b"\x89PNG") else "application/octet-stream"
        return f"data:{kind};base64," + base64.b64encode(self.data).decode("ascii")


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
    """A plain file name for a shoes-client command: the last path part, odd characters replaced."""
    name = re.split(r"[\\/]", str(name or ""))[-1]  # a Windows path's last part too
    name = re.sub(r"[^\w.+-]+", "_", name).strip("._")
    return name[:100] or default


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
    name = safe_name(field.get("name"), f"{what}.png")
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
    except (binascii.Error, ValueError):
        raise UploadError(f"The {what} {name} is not valid base64") from None
    return _checked_image(name, data, what)


def _checked_image(name: str, data: bytes, what: str) -> Upload:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise UploadError(f"The {what} {name} is a {image.format} image; the studio takes {', '.join(FORMATS)}")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadTooLarge(f"The {what} {name} has {width}x{height} pixels; the studio takes up to "
                                     f"{MAX_PIXELS / 1e6:g} million pixels")
            if max(width, height) <= MAX_SIDE:
                image.load()  # A truncated or corrupt file fails here, not later in the model.
                return Upload(name, data, (width, height))
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a fraction of the size
            small = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            small.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise UploadError(f"The {what} {name} is not an image the studio can read ({', '.join(FORMATS)}): {error}") from None
    stem = PurePath(name).stem
    return Upload(f"{stem}_{small.width}x{small.height}.png", png_bytes(small), small.size, resized=True)
