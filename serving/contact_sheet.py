"""A captioned contact sheet of generated shoes, drawn with Pillow alone (no TensorFlow, no matplotlib)."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont


def contact_sheet(rows: list[tuple[str, list[Image.Image]]], cell: int = 96, caption_width: int = 150) -> Image.Image:
    """One row per caption: the caption on the left, its images scaled to `cell` px on the right.

    Args:
        rows: ``(caption, images)`` pairs.
        cell: the side of each image on the sheet.
        caption_width: pixels kept for the captions.
    """
    columns = max((len(images) for _, images in rows), default=0)
    sheet = Image.new("RGB", (caption_width + columns * cell, max(1, len(rows)) * cell), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for row, (caption, images) in enumerate(rows):
        top = row * cell
        draw.text((6, top + cell // 2 - 6), caption, fill="black", font=font)
        for column, image in enumerate(images):
            sheet.paste(image.convert("RGB").resize((cell, cell), Image.NEAREST), (caption_width + column * cell, top))
    return sheet
