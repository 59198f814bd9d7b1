"""QR images of codes (and other short texts) with the ``qrcode`` package.

Codes use alphanumeric mode at ECC level M. Version and mask are fixed for codes (version 10 fits
both kinds, spec §3.3), which skips qrcode's mask search: most of its render time."""
import qrcode
import qrcode.image.svg
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

CODE_VERSION = 10
CODE_MASK = 2
_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _qr(text, version=None, mask_pattern=None, box_size=6, image_factory=None):
    mode = MODE_ALPHA_NUM if set(text) <= _ALPHANUMERIC else MODE_8BIT_BYTE
    qr = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M,
                       box_size=box_size, border=4, mask_pattern=mask_pattern,
                       image_factory=image_factory)
    qr.add_data(QRData(text.encode(), mode=mode), optimize=0)
    qr.make(fit=version is None)
    return qr


def qr_version(text):
    """The smallest version that holds ``text`` at ECC level M."""
    return _qr(text).version


def render_png(text, target, *, version=CODE_VERSION, mask_pattern=CODE_MASK, box_size=6):
    """Write a PNG to a path or file object. ``version=None`` fits any short text."""
    image = _qr(text, version, mask_pattern if version else None, box_size).make_image()
    image.save(target)


def render_svg(text, target, *, version=CODE_VERSION, mask_pattern=CODE_MASK, box_size=6):
    qr = _qr(text, version, mask_pattern if version else None, box_size,
             qrcode.image.svg.SvgPathImage)
    qr.make_image().save(target)
