"""Where one-time codes go. The default notifier writes them to the server log (the phone number
masked); a deployment plugs in an SMS gateway with the same ``send`` method."""
import logging

log = logging.getLogger("yima.notify")


def mask_phone(phone):
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "***"


class LogNotifier:
    def send_code(self, phone, code, purpose):
        log.info("one-time code for %s to %s: %s", purpose, mask_phone(phone), code,
                 extra={"event": "otp_sent"})
