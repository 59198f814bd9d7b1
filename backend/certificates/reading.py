"""Finding a certificate's QR on an uploaded PDF: the first page rendered with pdfium
(pypdfium2), the QR read with zxing-cpp. Only the text is answered; the checking is the caller's."""
import threading

import pypdfium2
import zxingcpp

from ..service.errors import ValidationFailed
from ..tokens.certificate import PREFIX

MAX_PIXELS = 2400  # the longer side of the rendered page: an A4 page at about 200 dpi
# PDFium is not thread-safe: one rendering at a time per process (gunicorn runs threads).
_PDFIUM = threading.Lock()


def certificate_text(data):
    with _PDFIUM:
        try:
            image = _first_page(data)
        except (pypdfium2.PdfiumError, ValueError, OSError):  # broken inside, past its header
            raise ValidationFailed("This file is not a readable PDF.", code="not_a_pdf") from None
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        if barcode.text.startswith(PREFIX):
            return barcode.text
    raise ValidationFailed("No certificate QR code was found on the first page of this PDF.",
                           code="no_certificate_found")


def _first_page(data):
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise ValidationFailed("This file is not a readable PDF.", code="not_a_pdf") from None
    try:
        if len(document) < 1:
            raise ValidationFailed("This PDF has no pages.", code="no_certificate_found")
        page = document[0]
        width, height = page.get_size()
        scale = min(3.0, MAX_PIXELS / max(width, height, 1))
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        document.close()
