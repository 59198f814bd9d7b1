"""The certificate as a printable PDF (A4): what it certifies, in Chinese and English, and the QR
that carries the signed certificate. reportlab embeds a subset of the TrueType font given (the
glyphs used), so the PDF shows the same on a machine without Chinese fonts."""
import io
import os
import threading
from datetime import datetime

import qrcode
from qrcode.util import MODE_ALPHA_NUM, QRData
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ..service.errors import ServiceUnavailable

# Debian's fonts-wqy-microhei (Apache-2.0 or GPLv3 with the font exception): `make setup` installs
# it; YIMA_CERTIFICATE_FONT names another TrueType (.ttf/.ttc) font with CJK glyphs.
DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SCHEME_WORDS = {"emp": ("职工基本医疗保险", "Employee basic medical insurance"),
                "res": ("城乡居民基本医疗保险", "Urban and rural resident basic medical insurance")}
STATUS_WORDS = {"active": ("正常参保", "Insured (active)"),
                "suspended": ("暂停参保", "Insurance suspended")}
_registered = {}
_registering = threading.Lock()


def _font(path):
    with _registering:
        return _registered_font(path)


def _registered_font(path):
    if path not in _registered:
        if not os.path.isfile(path):
            raise ServiceUnavailable(
                "Certificates cannot be printed: the Chinese font is not installed on the server.",
                code="certificate_font_missing")
        name = f"YimaCJK{len(_registered)}"
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0) if path.endswith(".ttc")
                                else TTFont(name, path))
        _registered[path] = name
    return _registered[path]


def qr_matrix(text):
    """The QR of a certificate's text: alphanumeric mode, ECC level M, the smallest version."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(QRData(text.encode(), mode=MODE_ALPHA_NUM), optimize=0)
    qr.make(fit=True)
    return qr.version, qr.get_matrix()


def _day(text):
    year, month, day = text.split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def _moment(iso):
    moment = datetime.fromisoformat(iso)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def render(described, text, *, check_url, font_path=DEFAULT_FONT):
    """PDF bytes. ``described``: what ``issuing.describe`` says of the certificate (China time);
    ``check_url``: the public page where anyone checks it."""
    font = _font(font_path)
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setTitle("参保凭证 Certificate of insurance")
    page.setAuthor("Yima")
    page.setSubject(f"certificate {described['jti']}")
    width, height = A4
    left, top = 22 * mm, height - 28 * mm

    page.setFont(font, 24)
    page.drawCentredString(width / 2, top, "参保凭证")
    page.setFont(font, 11)
    page.drawCentredString(width / 2, top - 8 * mm, "Certificate of medical insurance")
    page.setFont(font, 9)
    page.setFillGray(0.35)
    page.drawCentredString(width / 2, top - 14 * mm,
                           "长三角生态绿色一体化发展示范区 · Yima 一码")
    page.setFillGray(0)
    page.setLineWidth(0.6)
    page.line(left, top - 19 * mm, width - left, top - 19 * mm)

    region = " · ".join(filter(None, (described.get("region_name_zh"), described.get("province_zh"))))
    region_en = ", ".join(filter(None, (described.get("region_name_en"), described.get("province_en"))))
    rows = [
        ("姓名", "Name", described["name"], ""),
        ("身份证号", "ID number", described["national_id_masked"], ""),
        ("参保地", "Insured region", f"{region}（{described['region']}）", region_en),
        ("险种", "Scheme", *SCHEME_WORDS[described["scheme"]]),
        ("参保状态", "Status", *STATUS_WORDS[described["status"]]),
        ("参保起始日期", "Insured since", _day(described["insured_since"]), described["insured_since"]),
        ("所证期间", "Period covered", f"{_day(described['period_from'])} 至 {_day(described['period_to'])}",
         f"{described['period_from']} to {described['period_to']}"),
        ("出具时间", "Issued", _moment(described["issued_at"]), described["issued_at"]),
        ("有效期至", "Valid until", _moment(described["expires_at"]), described["expires_at"]),
        ("凭证编号", "Certificate no.", described["jti"], ""),
    ]
    y = top - 30 * mm
    for zh, en, value, value_en in rows:
        page.setFont(font, 11)
        page.drawString(left, y, zh)
        page.setFont(font, 8)
        page.setFillGray(0.4)
        page.drawString(left, y - 4.2 * mm, en)
        page.setFillGray(0)
        page.setFont(font, 12)
        page.drawString(left + 38 * mm, y, value)
        if value_en:
            page.setFont(font, 8)
            page.setFillGray(0.4)
            page.drawString(left + 38 * mm, y - 4.2 * mm, value_en)
            page.setFillGray(0)
        y -= 12.5 * mm

    version, matrix = qr_matrix(text)
    size = 62 * mm
    module = size / len(matrix)
    qr_left, qr_bottom = (width - size) / 2, y - size + 2 * mm
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):  # one rectangle per run of dark modules
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                page.rect(qr_left + start * module, qr_bottom + size - (r + 1) * module,
                          (c - start) * module, module, stroke=0, fill=1)
            else:
                c += 1
    page.setFont(font, 9)
    notes = [
        "本凭证由 Yima 以数字签名出具，无需盖章。扫描上方二维码，或打开下列网址上传本文件，即可核验真伪与是否已作废：",
        check_url,
        "This certificate is digitally signed; it needs no stamp. Scan the QR code above, or upload this",
        "file at the address above, to check that it is genuine and has not been withdrawn.",
    ]
    y = qr_bottom - 8 * mm
    for line in notes:
        page.drawCentredString(width / 2, y, line)
        y -= 5 * mm
    page.showPage()
    page.save()
    return out.getvalue()
