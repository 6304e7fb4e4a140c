"""Uploads: PNG, JPEG and WebP of any size are taken (huge ones scaled down), everything else is refused with
what was wrong, and the size limit is checked before a byte is decoded."""

import base64
import io

import pytest
from PIL import Image

from serving.studio import uploads
from serving.studio.uploads import MiB, UploadError, UploadTooLarge, read_upload, safe_name


def field(image_or_bytes, name="photo.png", fmt="PNG", **save) -> dict:
    data = image_or_bytes
    if isinstance(image_or_bytes, Image.Image):
        buffer = io.BytesIO()
        image_or_bytes.save(buffer, format=fmt, **save)
        data = buffer.getvalue()
    return {"name": name, "data": "data:image/x;base64," + base64.b64encode(data).decode()}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_common_formats_are_sent_as_uploaded(fmt):
    sent = field(Image.new("RGB", (30, 20), (200, 30, 30)), f"shoe.{fmt.lower()}", fmt)
    upload = read_upload(sent, MiB)
    assert upload.name == f"shoe.{fmt.lower()}" and upload.size == (30, 20) and not upload.resized
    assert upload.data == base64.b64decode(sent["data"].split(",")[1])


def test_a_huge_image_is_scaled_down_to_a_png_with_a_new_name(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_SIDE", 64)
    upload = read_upload(field(Image.new("RGB", (400, 100), "blue"), "wide photo.jpg", "JPEG"), MiB)
    assert upload.resized and upload.size == (64, 16) and upload.name == "wide photo_64x16.png"
    assert Image.open(io.BytesIO(upload.data)).format == "PNG" and upload.data_url().startswith("data:image/png;base64,")


def test_the_size_limit_is_checked_before_decoding():
    with pytest.raises(UploadTooLarge, match=r"The image big.png is 0.0191 MB; the studio takes images up to 0.00954 MB"):
        read_upload({"name": "big.png", "data": "data:image/png;base64," + "A" * 26_666}, 10_000)  # not even valid base64 data


def test_too_many_pixels_are_refused_unread(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PIXELS", 1000)
    with pytest.raises(UploadTooLarge, match="has 50x50 pixels; the studio takes up to 0.001 million pixels") as raised:
        read_upload(field(Image.new("1", (50, 50))), MiB)
    assert raised.value.status == 413


@pytest.mark.parametrize("sent, message", [
    (None, "Choose the image first"),
    ({"name": "x.png", "data": "http://example/x.png"}, "did not arrive as a base64 data URL"),
    ({"name": "x.png", "data": "data:image/png;base64,***"}, "is not valid base64"),
    (field(b"plain text, no picture", "notes.png"), "is not an image the studio can read (PNG, JPEG, WEBP)"),
    (field(Image.new("RGB", (8, 8)), "anim.gif", "GIF"), "is a GIF image; the studio takes PNG, JPEG, WEBP"),
])
def test_what_is_not_a_usable_image_is_400_and_says_why(sent, message):
    with pytest.raises(UploadError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        read_upload(sent, MiB)
    assert raised.value.status == 400 and " object at 0x" not in str(raised.value)


def test_what_was_received_instead_of_an_image_is_shown():
    with pytest.raises(UploadError, match=r"notes.png is not an image .* Received: 22 bytes starting b'plain text, no p'$"):
        read_upload(field(b"plain text, no picture", "notes.png"), MiB)
    with pytest.raises(UploadError, match=r"not valid base64 \(.*\). Received: 3 characters starting '\*\*\*'$"):
        read_upload({"name": "x.png", "data": "data:image/png;base64,***"}, MiB)


def test_a_truncated_png_is_refused_before_it_reaches_a_model():
    whole = field(Image.effect_noise((64, 64), 50).convert("RGB"))
    data = base64.b64decode(whole["data"].split(",")[1])
    with pytest.raises(UploadError, match="not an image the studio can read"):
        read_upload(field(data[: len(data) // 2]), MiB)


def test_file_names_lose_folders_control_characters_and_leading_dashes_and_keep_the_rest():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\my shoe (1).JPG") == "my shoe (1).JPG"  # the commands quote it
    assert safe_name("", "sketch.png") == "sketch.png" and safe_name("..", "sketch.png") == "sketch.png"
    assert safe_name("--help.png") == "help.png" and safe_name("-o") == "o"  # not an option to shoes-client
    assert safe_name("a\nb\u202egnp.exe") == "a_b_gnp.exe" and safe_name(".hidden.png") == "hidden.png"
    assert safe_name("x" * 300 + ".jpeg") == "x" * 95 + ".jpeg" and safe_name("a\u2028b.png") == "a_b.png"
    assert safe_name("Screenshot 2026-12-07 at 1.02.03\u202fPM.png") == "Screenshot 2026-12-07 at 1.02.03\u202fPM.png"  # macOS
    assert safe_name({"nested": ["junk"]}) == "{'nested': ['junk']}"


def test_a_renamed_upload_is_offered_under_the_name_its_command_uses():
    sent = field(Image.new("RGB", (8, 8)), "-o.png")
    upload = read_upload(sent, MiB)
    assert upload.name == "o.png" and upload.renamed and upload.offered and not upload.resized
    kept = read_upload(field(Image.new("RGB", (8, 8)), "my shoe.png"), MiB)
    assert kept.name == "my shoe.png" and not kept.offered


def test_a_cameras_multi_picture_jpeg_is_taken_as_a_jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(buffer, format="MPO", save_all=True, append_images=[Image.new("RGB", (30, 20), "blue")])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"  # what Pillow calls many cameras' JPEGs
    upload = read_upload(field(buffer.getvalue(), "DSCF0001.JPG"), MiB)
    assert upload.size == (30, 20) and upload.data == buffer.getvalue() and upload.data_url().startswith("data:image/jpeg;base64,")


def test_a_phone_photo_turned_by_its_exif_is_sent_upright_as_the_page_shows_it():
    image = Image.new("RGB", (30, 20), "white")
    image.paste((255, 0, 0), (0, 0, 10, 20))  # red on the left as stored
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show"
    upload = read_upload(field(image, "IMG_0001.jpg", "JPEG", exif=exif), MiB)
    upright = Image.open(io.BytesIO(upload.data))
    assert upload.resized and upload.offered and upload.name == "IMG_0001_20x30.png" and upright.size == (20, 30)
    assert upright.getpixel((10, 2))[0] > 200 and upright.getpixel((10, 27))[1] > 200  # red on top, white below


def test_only_a_few_large_images_are_decoded_at_once(monkeypatch):
    import threading
    import time

    monkeypatch.setattr(uploads, "MAX_SIDE", 16)
    inside, most, lock = [0], [0], threading.Lock()
    thumbnail = Image.Image.thumbnail

    def counting(self, *args, **kwargs):  # each large image's full pixels are held while it is scaled down
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        thumbnail(self, *args, **kwargs)
        with lock:
            inside[0] -= 1

    monkeypatch.setattr(Image.Image, "thumbnail", counting)
    sent = field(Image.new("RGB", (64, 64), "green"))
    threads = [threading.Thread(target=read_upload, args=(sent, MiB)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == uploads.LARGE_DECODES._initial_value == 2


def test_a_png_whose_text_chunk_inflates_to_megabytes_is_an_upload_error_naming_the_file():
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    png = buffer.getvalue()
    bomb = png[:33] + chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * 20_000_000, 9)) + png[33:]  # 20 kB -> 20 MB
    with pytest.raises(UploadError, match="The image bomb.png is not an image the studio can read .*: Decompressed data too large") as raised:
        read_upload(field(bomb, "bomb.png"), MiB)
    assert raised.value.status == 400
