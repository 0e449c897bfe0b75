"""Intent LFs for the support chats, written after reading a few dozen chats.

Each LF votes an intent or abstains (None). The customer's first message carries the intent, so
most LFs look at it; side remarks ("not asking for a refund") are why a few LFs check negation.
"""

import re

from labelfns import keyword_lf, labeling_function, regex_lf

# -- keywords ---------------------------------------------------------------------------------------
kw_account_access = keyword_lf(
    "kw_account_access",
    ["log in", "login", "locked out", "password", "sign in", "sign-in", "2fa", "two-factor",
     "two factor", "six-digit codes"],
    "account_access")
kw_refund = keyword_lf("kw_refund", ["refund", "money back", "store credit", "voucher"], "refund")
kw_billing = keyword_lf(
    "kw_billing", ["charged twice", "double charge", "invoice", "statement", "VAT",
                   "don't recognise", "SUBSCR"], "billing")
kw_shipping = keyword_lf(
    "kw_shipping", ["express shipping", "ship to", "next-day", "courier missed", "reschedule",
                    "tried at", "speed it up", "delivery take"], "shipping")
kw_defect = keyword_lf(
    "kw_defect", ["stopped working", "defective", "broken", "won't turn on", "cracked", "damaged",
                  "warranty", "grinding noise", "battery dies", "nothing happens", "crushed"],
    "product_defect")
kw_change_address = keyword_lf(
    "kw_change_address", ["change the delivery address", "update the address", "billing address",
                          "shipping address", "typo in my address", "just moved", "new flat",
                          "street name"], "change_address")
kw_payment_method = keyword_lf(
    "kw_payment_method", ["card on file", "declined", "payment failed", "direct debit", "paypal",
                          "payment card", "new card", "straight from my bank"], "payment_method")
kw_other = keyword_lf(
    "kw_other", ["feedback", "compatible", "in the box", "come with", "newsletter", "promo emails",
                 "unsubscribed", "personal data", "gdpr", "collab", "review your products"], "other")

# -- regexes ----------------------------------------------------------------------------------------
re_where_is_order = regex_lf(
    "re_where_is_order",
    r"\b(where is my order|status of|hasn't arrived|still (?:nothing|isn't here)|"
    r"still says processing|'processing'|only got part|wasn't in it)\b",
    "order_status")
re_cancel = regex_lf(
    "re_cancel",
    r"\b(cancel (?:my|the|order|it)|close my account|stop the whole thing|never gets sent|"
    r"not charged again|remove me completely|cancel the monthly)\b",
    "cancellation")
re_refund_not_received = regex_lf(
    "re_refund_not_received",
    r"\b(returned the|sent the \w+ back|got the .{1,40} back|difference)\b", "refund")
re_unknown_charge = regex_lf(
    "re_unknown_charge", r"\b(what is this|charge I don't|didn't buy anything|same amount again)\b",
    "billing")

# -- Python LFs -------------------------------------------------------------------------------------
_NEGATED = re.compile(r"\b(?:not|don't|isn't|no)\b[^.?!]{0,30}$", re.IGNORECASE)


def _first_customer_message(text):
    """The first line that is not the agent's (agent lines come first in most chats)."""
    for line in text.splitlines():
        head = line.split(":", 1)[0].lower()
        if "agent" in head or "support" in head or "(" in head or line.startswith("---"):
            continue
        return line.split(":", 1)[-1] if ":" in line else line
    return ""


@labeling_function()
def refund_in_first_message(x):
    """'refund' in the customer's opening message, unless negated ('not asking for a refund')."""
    first = _first_customer_message(x.text).lower()
    i = first.find("refund")
    if i < 0 or _NEGATED.search(first[:i]):
        return None
    return "refund"


@labeling_function()
def cancel_in_first_message(x):
    """'cancel' in the opening message, unless negated ('not trying to cancel')."""
    first = _first_customer_message(x.text).lower()
    i = first.find("cancel")
    if i < 0 or _NEGATED.search(first[:i]):
        return None
    return "cancellation"


@labeling_function()
def address_in_first_message(x):
    """An address change: 'address' and a moving/changing verb in the opening message."""
    first = _first_customer_message(x.text).lower()
    if "address" in first and any(w in first for w in ("change", "update", "should be", "moved")):
        return "change_address"
    return None


@labeling_function()
def tracking_shared(x):
    """The agent shares a tracking number: the chat is about where an order is."""
    if re.search(r"tracking (?:number )?is|Tracking: ", x.text) and "reschedul" not in x.text:
        return "order_status"
    return None
