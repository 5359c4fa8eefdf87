"""Customer photos: checked, re-encoded without metadata, stored.

A photo is accepted when Pillow reads it as a JPEG, PNG or WebP image
(whatever its file name or the browser's content type say), it is at most
``REVIEWS_PHOTO_MAX_BYTES`` large and at most :data:`MAX_PIXELS` pixels
(a "decompression bomb" is refused before it is decoded). It is then
turned upright (its EXIF orientation applied), scaled down to
:data:`MAX_EDGE` pixels and encoded anew in its own format with nothing
but the pixels and the colour profile: EXIF (GPS position, camera serial
number, time), XMP and comments are gone. The result is stored with
Django's storage API (``default_storage``, :class:`~.models.ReviewPhoto`)
under a random name.

Pillow is the ``reviews`` extra (``pip install django-order-mail[reviews]``);
the system check ``E802`` reports it missing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .app_settings import app_settings

#: Pillow's format name -> (content type, file extension).
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
#: Larger images are refused before they are decoded.
MAX_PIXELS = 40_000_000
#: Stored photos are at most this many pixels wide and high.
MAX_EDGE = 2560


@dataclass(frozen=True)
class ProcessedPhoto:
    content: bytes
    mime_type: str
    extension: str
    width: int
    height: int


def pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def process_photo(upload) -> ProcessedPhoto:
    """The re-encoded photo of an uploaded file; ``ValidationError`` with a
    message the customer understands otherwise."""
    name = getattr(upload, "name", "") or _("your photo")
    limit = int(app_settings.REVIEWS_PHOTO_MAX_BYTES)
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("“%(name)s” is larger than %(size)s. Please choose a smaller photo.")
            % {"name": name, "size": filesizeformat(limit)},
            code="too_large",
        )
    not_an_image = ValidationError(
        _("“%(name)s” is not a JPEG, PNG or WebP image.") % {"name": name}, code="not_an_image"
    )
    from PIL import Image, ImageOps, UnidentifiedImageError

    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _("“%(name)s” is larger than %(size)s. Please choose a smaller photo.")
            % {"name": name, "size": filesizeformat(limit)},
            code="too_large",
        )
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
            if probe.format not in FORMATS:
                raise not_an_image
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(
                    _("“%(name)s” has too many pixels. Please choose a smaller photo.") % {"name": name},
                    code="too_many_pixels",
                )
            probe.verify()
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            image.load()
            return _encode(ImageOps.exif_transpose(image), image.format or "JPEG")
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise not_an_image from None


def _encode(image, fmt: str) -> ProcessedPhoto:
    from PIL import Image

    image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    icc = image.info.get("icc_profile")
    image.info = {}  # no EXIF, XMP, comments or text chunks ride along
    options: dict = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options.update(quality=85, optimize=True)
    elif fmt == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        options.update(quality=85)
    else:
        options.update(optimize=True)
    out = io.BytesIO()
    image.save(out, format=fmt, exif=b"", **options)
    mime_type, extension = FORMATS[fmt]
    return ProcessedPhoto(out.getvalue(), mime_type, extension, image.width, image.height)


def delete_file(sender, instance, **kwargs) -> None:
    """``post_delete`` of a photo: its file goes too, once the deletion commits."""
    name, storage = instance.image.name, instance.image.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
