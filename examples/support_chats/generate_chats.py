"""Seeded generator of synthetic customer-support chats with gold PII spans, an intent and a summary.

The data set of labelcycle's flagship example: summarize support chats without leaking personal
data. Every record is a whole multi-turn chat (3-10 turns, several speaker-tag styles) with

- ``intent``: one of :data:`INTENTS`;
- ``summary``: a short human-style summary that contains no PII value;
- ``spans``: the gold PII spans, ``{"start", "end", "label"}`` character offsets into ``text``
  (end exclusive, sorted, never overlapping), labels from :data:`LABELS`.

Run ``python generate_chats.py chats.jsonl --n 600 --seed 0`` (``.csv`` also works).

Intents
-------
``account_access`` (log-in, password reset, 2FA, suspicious sign-in), ``order_status`` (where is my
order, still processing, partial delivery), ``refund`` (refund not received, money back instead of
credit, price drop), ``billing`` (double charge, unknown charge, invoice), ``shipping`` (options and
costs, missed delivery, faster delivery), ``cancellation`` (order, subscription, account),
``product_defect`` (stopped working, arrived damaged, warranty), ``change_address`` (delivery or
account address), ``payment_method`` (new card, declined card, direct debit, PayPal) and
``other`` (product questions, feedback, data requests, unsubscribing, partnerships). The signals
overlap on purpose (refund chats mention orders and cards, cancellations promise refunds, billing
mentions subscriptions, customers add side remarks such as "not asking for a refund"), and about
a quarter of the chats state the problem without the intent's usual words ("I sent the blender back
and the money still hasn't shown up").

What is labelled (the conventions a detector is scored against)
---------------------------------------------------------------
- PERSON: customer and agent names wherever they name a person, including speaker tags ("Agent
  (Maria):", "[10:32] Tom:") and lowercase mentions ("thanks, will!"); titles ("Ms.") stay outside.
  Names that are words elsewhere ("Will do!", "May I help", "Mark as resolved", "rose gold", a
  "Chase" card, the "summer" sale) and company names (even when they contain a surname) are not.
- ORDER_ID / ACCOUNT_ID: the id only ("order #A-482913" -> ``A-482913``, "acct 552019" -> ``552019``).
- DATE_OF_BIRTH: the date only ("DOB 04/12/1987" -> ``04/12/1987``). Other dates are not labelled.
- EMAIL, PHONE, CREDIT_CARD (separators inside), SSN, IBAN (grouped or compact), IP_ADDRESS, URL
  (every URL, also the help links agents send), ADDRESS (one line): the value without surrounding
  brackets or sentence punctuation.
- Not labelled (hard negatives): carrier tracking numbers, support case/ticket references, the last
  four digits of a card ("ending in 4242"), card expiry dates, serial numbers, prices, quantities,
  product models ("iPhone 13", "model XR-200"), timestamps, order/delivery dates, company and carrier
  names.

Output depends only on ``seed``, ``n`` and the installed Faker version.

Example
-------
>>> chats = generate(3, seed=1)
>>> [sorted(c) for c in chats][0]
['id', 'intent', 'spans', 'summary', 'text']
>>> all(c["text"][s["start"]:s["end"]] for c in chats for s in c["spans"])
True
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import ipaddress
import json
import os
import random
import re
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from faker import Faker
from stdnum import iban as _stdnum_iban
from stdnum import luhn as _stdnum_luhn

__all__ = ["LABELS", "INTENTS", "generate", "write", "read", "main"]

LABELS: tuple[str, ...] = (
    "PERSON", "EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "URL", "ADDRESS",
    "DATE_OF_BIRTH", "ORDER_ID", "ACCOUNT_ID",
)
"""The gold PII labels (the same as ``labelfns.spans.PII_LABELS``)."""

INTENTS: tuple[str, ...] = (
    "account_access", "order_status", "refund", "billing", "shipping", "cancellation",
    "product_defect", "change_address", "payment_method", "other",
)
"""The intent labels, in a fixed order."""

_INTENT_WEIGHTS = (0.11, 0.14, 0.13, 0.11, 0.08, 0.10, 0.10, 0.08, 0.08, 0.07)
_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "en_IN")
_LOCALE_WEIGHTS = (0.34, 0.2, 0.16, 0.14, 0.16)
_IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR")
_IMPLICIT_SHARE = 0.25

# names that are also words, non-ASCII names and surnames that break naive patterns
_WORD_NAMES = ("Will", "May", "Rose", "Grant", "Bill", "Mark", "Hope", "Summer", "Chase", "Faith",
               "Ivy", "June", "Dawn", "Joy", "Penny", "Rich", "Sky", "Hunter", "Autumn", "Jack")
_UNICODE_NAMES = ("Zoë", "José", "Łukasz", "Björn", "Søren", "Chloé", "Anaïs", "Jürgen", "François",
                  "Siobhán", "Renée", "Małgorzata", "Ólafur", "Dvořák", "Noël", "Thérèse", "Željko")
_PLAIN_AGENT_NAMES = ("Maria", "Tom", "Priya", "Daniel", "Aisha", "Lukas", "Sophie", "Ravi", "Emma",
                      "Omar", "Hannah", "Carlos", "Mei", "Jonas", "Fatima", "Liam")
_ODD_SURNAMES = ("Núñez", "O'Brien", "García-López", "van der Berg", "Dvořák", "Åström", "Nguyễn",
                 "Kowalski", "Müller", "Le Roux", "Ó Súilleabháin", "d'Souza", "Østergaard")
_BRANDS = ("ShopCo", "Northwind", "Brightcart", "Kettle & Co", "Lumen Home", "Parcelpoint")
_CARRIERS = ("UPS", "DHL", "FedEx", "Royal Mail", "La Poste", "DPD", "Hermes", "Blue Dart", "USPS")
_COUNTRIES = ("Canada", "Ireland", "Germany", "India", "France", "Australia", "Norway", "Japan")
_PRODUCTS = (  # (noun, model) -- models are hard negatives
    ("phone", "iPhone 13"), ("phone", "Galaxy S21"), ("headphones", "WH-1000XM4"),
    ("vacuum", "Dyson V11"), ("e-reader", "Kindle Paperwhite"), ("earbuds", "AirPods Pro"),
    ("laptop", "ThinkPad X1 Carbon"), ("blender", "model XR-200"), ("coffee machine", "Nespresso Vertuo"),
    ("fitness tracker", "Fitbit Charge 5"), ("router", "model AX-3000"), ("kettle", "model KT-17B"),
    ("smart speaker", "Echo Dot (4th gen)"), ("monitor", "Dell U2720Q"), ("air fryer", "model AF-550"),
)
_DEVICES = ("iPhone 13", "Galaxy S21", "Pixel 7", "MacBook Air M2", "iPad (9th gen)", "ThinkPad X1")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_CARD_TYPES = ("visa16", "visa16", "mastercard", "mastercard", "amex", "discover", "diners", "jcb16",
               "visa13", "visa19", "maestro")

_TOKEN_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_Seg = tuple[str, "str | None"]  # (text, label or None)

# ------------------------------------------------------------------------------------------------
# conversation material. {slot}s are filled by _Chat.slot; see _Chat._SLOTS for the PII slots.
# ------------------------------------------------------------------------------------------------
_SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "account_access": [
        {
            "explicit": [
                "I can't log in to my account since I reset my password yesterday.",
                "I'm locked out of my account. The password reset email never arrives at {email}.",
                "Password reset isn't working, I can't sign in to check my orders.",
            ],
            "implicit": [
                "Every time I type my password it says 'invalid credentials' and now I have to wait "
                "30 minutes.",
                "I'm stuck on the sign-in page, it keeps looping back to the start. Tried 3 browsers.",
            ],
            "summary": ["Customer could not log in after a password reset",
                        "Customer was locked out after resetting the password"],
            "details": [
                ("Could you check whether the reset email went to spam?",
                 "Checked, nothing there. It should go to {email}."),
                ("Do you see an error message?", "It says 'Too many attempts, try again later'."),
                ("Can you share your IP address? Our security filter might be blocking it.",
                 "whatismyip says {ip}"),
            ],
            "resolutions": [
                ("I've unlocked the account and sent a fresh reset link; it expires in 24 hours.",
                 "agent unlocked the account and sent a new reset link"),
                ("I've cleared the lockout. Please sign in again here: {link}",
                 "agent cleared the lockout and shared a sign-in link"),
            ],
        },
        {
            "explicit": [
                "The 2FA code to my phone {phone} never comes through so I can't log in.",
                "I need help with two-factor login, I got a new phone.",
            ],
            "implicit": [
                "I got a new phone and the six-digit codes still go to my old number {phone}.",
            ],
            "summary": ["Customer stopped receiving two-factor codes after changing phones"],
            "details": [
                ("Which device are you on now?", "My new {device} in rose gold lol"),
                ("What's the new number for the codes?", "{phone}"),
                ("Since the codes don't reach you, I'll verify you another way: your SSN please?",
                 "{ssn}"),
            ],
            "resolutions": [
                ("I've reset two-factor authentication; you'll be asked to set it up again at "
                 "the next log-in.", "agent reset two-factor authentication"),
                ("Done, the codes now go to the new number. Use {link} to confirm it.",
                 "agent moved the verification codes to the new number"),
            ],
        },
        {
            "explicit": [
                "I got an alert about a login to my account from {ip}, that wasn't me!",
                "Someone logged into my account from {ip} last night. Please secure it.",
            ],
            "implicit": [
                "Got an email saying 'new sign-in from {ip}' but I was asleep at that time??",
            ],
            "summary": ["Customer reported a sign-in from an unknown location",
                        "Customer saw an unrecognised sign-in on the account"],
            "details": [
                ("Can you tell me your own IP address so I can compare?", "whatismyip says {ip}"),
                ("Did you recently use public wifi?", "No, only at home."),
            ],
            "resolutions": [
                ("I've signed out every session and locked the account; set a new password with "
                 "{link}", "agent signed out all sessions and asked for a new password"),
                ("Our logs show the last log-in from {ip} on {date}. I've blocked it and reset "
                 "your password.", "agent blocked the unknown sign-in and reset the password"),
            ],
        },
    ],
    "order_status": [
        {
            "explicit": [
                "Where is my order? My {order_ref} was supposed to arrive {date}.",
                "Hi, can you check the status of {order_ref}? It's been a week.",
                "My order hasn't arrived yet, it's {order_ref}.",
            ],
            "implicit": [
                "I bought a {product} on {date} and still nothing at the door.",
                "It's been 10 days since I paid {price} and the {item} still isn't here, {order_ref}.",
            ],
            "summary": ["Customer asked about a late delivery",
                        "Customer wanted to know where a delayed parcel was"],
            "details": [
                ("When did you place the order?", "On {date}, I paid {price} for {qty}."),
                ("Which delivery option did you choose?", "Standard, with {carrier}."),
                ("Can you confirm the delivery address?", "{address}"),
            ],
            "resolutions": [
                ("It left our warehouse on {date}. The {carrier} tracking number is {tracking}.",
                 "agent shared the carrier tracking details"),
                ("It's held at the local depot; expect it within 2 business days. Tracking: "
                 "{tracking}", "agent explained the parcel was held at a depot and gave a new estimate"),
            ],
        },
        {
            "explicit": [
                "Has my order shipped yet? The status of {order_ref} still says processing.",
                "Why is my order still 'processing'? I ordered on {date}.",
            ],
            "implicit": [
                "The app has shown 'processing' for {order_ref} for five days now. Normal?",
            ],
            "summary": ["Customer asked why an order was still processing"],
            "details": [
                ("Did you get a confirmation email?", "Yes, at {email}."),
                ("Which payment method did you use?", "Credit card, {card}"),
                ("Is it the {product}?", "Yes, {qty} of them."),
            ],
            "resolutions": [
                ("There was a stock delay; it ships tomorrow and you'll get the tracking by email.",
                 "agent confirmed the order would ship the next day"),
                ("It was waiting for a payment check, which I've cleared. It'll leave on {date}.",
                 "agent cleared a payment check so the order could ship"),
            ],
        },
        {
            "explicit": [
                "I only got part of my order {order}: {qty} arrived, the rest is missing.",
            ],
            "implicit": [
                "Box came today but the {item} wasn't in it, just the charger. {order_ref}",
            ],
            "summary": ["Customer received only part of an order"],
            "details": [
                ("Was there a packing slip in the box?", "Yes, it lists the {product} too."),
            ],
            "resolutions": [
                ("The rest was sent separately with {carrier}, tracking {tracking}.",
                 "agent confirmed the remaining items were shipped separately"),
            ],
        },
    ],
    "refund": [
        {
            "explicit": [
                "I returned the {item} two weeks ago ({order_ref}) but I still have no refund.",
                "Where is my refund? The return for {order_ref} was delivered on {date}.",
            ],
            "implicit": [
                "I sent the {item} back on {date} and the money still hasn't shown up on my card "
                "ending in {last4}.",
                "You got the {product} back ages ago, when do I see the {price} again?",
            ],
            "summary": ["Customer had not received a refund for a returned item"],
            "details": [
                ("How did you pay originally?", "With my Chase card ending in {last4}."),
                ("Which card should it go back to?", "This one: {card}"),
                ("Do you have the return tracking number?", "Yes, {tracking} with {carrier}."),
                ("Would you prefer the money on the original card or by bank transfer?",
                 "Bank transfer please, IBAN {iban}"),
            ],
            "resolutions": [
                ("The return was received and the refund of {price} has been issued; allow "
                 "{days}.", "agent confirmed the refund was issued and gave a timeline"),
                ("We got it back on {date}; the {price} is on its way to your card, allow {days}.",
                 "agent confirmed the money was on its way back"),
                ("The refund went back to the original card on {date}. If it's not there soon, "
                 "please ask your bank.", "agent confirmed the refund went to the original card"),
            ],
        },
        {
            "explicit": [
                "I'd like my money back instead of store credit for {order_ref}.",
                "Can I get a refund rather than a voucher? The {item} was {price}.",
            ],
            "implicit": [
                "I don't want a voucher, I want the {price} back please. It was {order_ref}.",
            ],
            "summary": ["Customer wanted cash back instead of store credit"],
            "details": [
                ("Where should we send the money?", "My bank: {iban} (same name as the account)."),
                ("Which card did you pay with?", "{card}"),
            ],
            "resolutions": [
                ("I've converted the credit into a refund to your bank account; it takes {days}.",
                 "agent arranged a bank transfer instead of the credit"),
                ("I've cancelled the voucher and refunded the card you paid with.",
                 "agent swapped the voucher for a card refund"),
            ],
        },
        {
            "explicit": [
                "The {product} dropped to {price} a day after I bought it, can I get a refund of "
                "the difference?",
            ],
            "implicit": [
                "Bought the {product} on {date} and now it's {price} in the summer sale. Seriously?",
            ],
            "summary": ["Customer asked to get back a price difference after a price drop"],
            "details": [
                ("What was the order number?", "{order_ref}"),
            ],
            "resolutions": [
                ("I've refunded the difference to your original payment method.",
                 "agent refunded the price difference"),
            ],
        },
    ],
    "billing": [
        {
            "explicit": [
                "I was charged twice for {order_ref}: two charges of {price} on my card {card}.",
                "Double charge on my statement for the same order, please fix. Card was {card}.",
            ],
            "implicit": [
                "My bank app shows {price} from {brand} on {date} and then the same amount again "
                "an hour later.",
            ],
            "summary": ["Customer was charged twice for one order"],
            "details": [
                ("Which card was charged?", "{card}"),
                ("Can you tell me the amount and the date?", "{price} on {date}, twice."),
                ("Should the money go back to the card or your bank account?",
                 "Bank account is fine: {iban}"),
            ],
            "resolutions": [
                ("I can see the duplicate; I've reversed it and it disappears within {days}.",
                 "agent reversed the duplicate charge"),
                ("The second one is only a pending hold and drops off by itself within {days}.",
                 "agent explained the second charge was a temporary hold"),
            ],
        },
        {
            "explicit": [
                "What is this {price} charge from {brand} on my card? I didn't buy anything.",
                "There's a charge I don't recognise on my credit card statement.",
            ],
            "implicit": [
                "I see '{brand} *SUBSCR {price}' on my statement, what is that?",
            ],
            "summary": ["Customer did not recognise a charge that turned out to be a subscription renewal"],
            "details": [
                ("Is this for the annual plan?", "No idea, I never signed up for a plan."),
                ("Could you share the card number so I can find the transaction?", "{card}"),
            ],
            "resolutions": [
                ("It's the yearly membership renewal. Since you haven't used it I've refunded it.",
                 "agent explained the annual renewal and refunded it"),
                ("That was the membership renewal; I've turned off auto-renew for next year.",
                 "agent explained the renewal and turned off auto-renew"),
            ],
        },
        {
            "explicit": [
                "I need a VAT invoice for my company {company} for {order_ref}.",
                "Can you send an invoice with our company name, {company}, on it?",
            ],
            "implicit": [
                "Our accountant needs the paperwork for the {product} with {company} on it.",
            ],
            "summary": ["Customer requested an invoice for a business purchase"],
            "details": [
                ("Which email should the invoice go to?", "accounts: {email}"),
                ("What's the billing address?", "{address}"),
            ],
            "resolutions": [
                ("I've issued the invoice and emailed it to you.", "agent emailed the invoice"),
                ("You can download it any time from {link}", "agent shared an invoice download link"),
            ],
        },
    ],
    "shipping": [
        {
            "explicit": [
                "How much is express shipping to {country}?",
                "Do you ship to {country}, and how long does delivery take?",
            ],
            "implicit": [
                "I'm in {country} for the summer, can I still get a {product} from you?",
            ],
            "summary": ["Customer asked about international delivery options and costs"],
            "details": [
                ("Which address would it go to?", "{address}"),
                ("How many items?", "{qty}, about {price} in total"),
            ],
            "resolutions": [
                ("Yes, express is {price} and takes 3-5 days with {carrier}.",
                 "agent explained the available delivery options and costs"),
                ("We ship there with {carrier}; standard delivery is free over {price}.",
                 "agent confirmed delivery to that country and the free-delivery threshold"),
            ],
        },
        {
            "explicit": [
                "The courier missed me today. Can I reschedule delivery of {order_ref}?",
            ],
            "implicit": [
                "There's a card in my letterbox from {carrier} saying they tried at 11am. I was home!",
            ],
            "summary": ["Customer missed a delivery and wanted to rebook it"],
            "details": [
                ("Is the address still {address}?", "Yes that's right."),
                ("What's a good phone number for the driver?", "{phone}"),
            ],
            "resolutions": [
                ("I've rebooked delivery for {date}. Tracking: {tracking}",
                 "agent rebooked the delivery"),
                ("You can choose a new slot here: {link}", "agent sent a link to pick a new delivery slot"),
            ],
        },
        {
            "explicit": [
                "Can I upgrade {order_ref} to next-day shipping? Happy to pay the difference.",
            ],
            "implicit": [
                "I need the {item} by Friday for a birthday, any way to speed it up? {order_ref}",
            ],
            "summary": ["Customer wanted faster delivery for an existing order"],
            "details": [
                ("Which card should we charge the upgrade to?", "The one on file, ending {last4}"),
            ],
            "resolutions": [
                ("Done, it's now next-day with {carrier} for an extra {price}.",
                 "agent upgraded the delivery for a fee"),
            ],
        },
    ],
    "cancellation": [
        {
            "explicit": [
                "Please cancel {order_ref}, I ordered the wrong size.",
                "I need to cancel my order {order}, placed it by mistake.",
            ],
            "implicit": [
                "I don't need the {item} anymore, I'd rather it never gets sent. {order_ref}",
                "Ordered {qty} by accident instead of one, can you stop the whole thing?",
            ],
            "summary": ["Customer asked to cancel an order placed by mistake"],
            "details": [
                ("Can I ask why?", "Found it cheaper elsewhere, {price} vs yours."),
                ("Has it shipped yet?", "Don't think so, no tracking yet."),
                ("It was paid by bank transfer; which account should we send the money to?",
                 "{iban} please"),
            ],
            "resolutions": [
                ("Done, the order is cancelled and the full {price} goes back to your card.",
                 "agent cancelled the order and issued a full refund"),
                ("Stopped it at the warehouse, nothing will be sent and the {price} goes back to you.",
                 "agent stopped the order before dispatch and returned the payment"),
                ("It had already left, so I've set up a free return instead: {link}",
                 "agent set up a free return because the order had already shipped"),
            ],
        },
        {
            "explicit": [
                "I want to cancel my subscription, {account_ref}.",
                "How do I cancel the monthly plan? {account_ref}",
            ],
            "implicit": [
                "Please make sure I'm not charged again next month, I've stopped using it.",
            ],
            "summary": ["Customer wanted to end a subscription"],
            "details": [
                ("Would you like to pause instead?", "No, just stop it please."),
                ("Which email is the plan under?", "{email}"),
            ],
            "resolutions": [
                ("Cancelled; you keep access until the end of the current billing period.",
                 "agent cancelled the subscription at the end of the billing period"),
                ("Done, you won't be charged again. Access continues until the end of this month.",
                 "agent stopped future charges and kept access until the end of the month"),
            ],
        },
        {
            "explicit": [
                "Please close my account and delete my data. {account_ref}",
            ],
            "implicit": [
                "I won't be shopping with you again, please remove me completely.",
            ],
            "summary": ["Customer asked to close the account"],
            "details": [
                ("Just to confirm, this can't be undone. Continue?", "Yes, go ahead."),
                ("Is there an open balance or order?", "No."),
            ],
            "resolutions": [
                ("The account is closed and a deletion confirmation goes to the email on file.",
                 "agent closed the account and confirmed the deletion"),
            ],
        },
    ],
    "product_defect": [
        {
            "explicit": [
                "The {product} I got stopped working after two days. It's defective.",
                "My {item} is broken, it won't turn on. Video: {url}",
            ],
            "implicit": [
                "When I plug in the {product} nothing happens, the light doesn't even come on.",
                "The {item} makes a grinding noise and then just stops. Here's a clip {url}",
            ],
            "summary": ["Customer reported a faulty {item} that stopped working"],
            "details": [
                ("Could you send a photo or video?", "Sure, here: {url}"),
                ("What's the serial number on the back?", "{serial}"),
                ("Have you tried a reset?", "Yes, held the button 10 seconds, nothing."),
            ],
            "resolutions": [
                ("Sorry about that! I've arranged a free replacement, it ships today.",
                 "agent arranged a free replacement"),
                ("I can offer a replacement or a full refund; here's the return label: {link}",
                 "agent offered a replacement or a refund and sent a return label"),
            ],
        },
        {
            "explicit": [
                "The box arrived crushed and the screen on my {product} is cracked.",
                "My {item} arrived damaged ({order_ref}), the casing is split.",
            ],
            "implicit": [
                "Opened the parcel and there's glass everywhere. Photos: {url}",
            ],
            "summary": ["Customer received a damaged {item}"],
            "details": [
                ("When did it arrive?", "On {date}."),
                ("Could you share photos?", "{url}"),
            ],
            "resolutions": [
                ("I've sent a prepaid return label and a replacement is on its way.",
                 "agent sent a prepaid return label and a replacement"),
            ],
        },
        {
            "explicit": [
                "My {product} is 10 months old and the battery dies in an hour. Is it under warranty?",
            ],
            "implicit": [
                "The {item} used to last all day, now it's dead by lunch. Bought it {date}.",
            ],
            "summary": ["Customer asked for a warranty repair"],
            "details": [
                ("What's the serial number?", "{serial}"),
                ("Do you have the order number?", "{order_ref}"),
            ],
            "resolutions": [
                ("It's covered. I've opened a warranty claim, case {ticket}.",
                 "agent opened a warranty claim"),
            ],
        },
    ],
    "change_address": [
        {
            "explicit": [
                "I need to change the delivery address for {order_ref} to {new_address}.",
                "Can I update the shipping address on my order? New one is {new_address}",
            ],
            "implicit": [
                "I just moved and the parcel is going to my old place. Can it go to {new_address} "
                "instead?",
            ],
            "summary": ["Customer needed the delivery address on an order changed after moving"],
            "details": [
                ("What was the old address?", "{address}"),
                ("And the best phone number for the courier?", "{phone}"),
            ],
            "resolutions": [
                ("Updated; it hasn't left the warehouse yet so it goes to the new address.",
                 "agent updated the delivery address before dispatch"),
                ("It had already shipped, so I've asked {carrier} to redirect it.",
                 "agent asked the carrier to redirect the parcel"),
            ],
        },
        {
            "explicit": [
                "Please update the address on my account to {new_address}.",
                "Change my billing address please: {new_address}",
            ],
            "implicit": [
                "New flat! From now on everything should go to {new_address}.",
            ],
            "summary": ["Customer asked to update the address on the account"],
            "details": [
                ("Should I update the billing address too?", "Yes, both."),
                ("Can you confirm the old one?", "{address}"),
            ],
            "resolutions": [
                ("Done, both addresses on your account are updated.", "agent updated the account address"),
            ],
        },
        {
            "explicit": [
                "I made a typo in my address for {order_ref}, it should be {new_address}.",
            ],
            "implicit": [
                "Just noticed the street name in my confirmation is wrong, it's {new_address}.",
            ],
            "summary": ["Customer spotted a typo in the delivery address"],
            "details": [
                ("Is the postcode right?", "Yes, only the street is wrong."),
            ],
            "resolutions": [
                ("I've corrected it on the order.", "agent corrected the address on the order"),
            ],
        },
    ],
    "payment_method": [
        {
            "explicit": [
                "I want to update the card on file, the new one is {card}.",
                "How do I change my payment card? The old one expired.",
            ],
            "implicit": [
                "My bank sent me a new card, the old one ending {last4} is dead now.",
            ],
            "summary": ["Customer wanted to replace an expired card on file"],
            "details": [
                ("What's the new card number?", "{card}, expires {expiry}"),
                ("Is the billing address the same?", "Yes, {address}"),
            ],
            "resolutions": [
                ("The new card is saved as your default payment method.",
                 "agent updated the saved card"),
                ("For security please add it yourself here: {link}",
                 "agent sent a secure link to add the new card"),
            ],
        },
        {
            "explicit": [
                "My card keeps getting declined at checkout even though it has funds.",
                "Payment failed three times with my card {card}.",
            ],
            "implicit": [
                "Checkout says 'Payment declined - code 05' every single time. Tried {qty}.",
            ],
            "summary": ["Customer's card was declined at checkout"],
            "details": [
                ("What's the billing address on the card?", "{address}"),
                ("Which card are you using?", "{card}"),
                ("Are you on a VPN? Checkout blocks some networks.", "Maybe? My IP shows as {ip}"),
                ("This is for the pay-later plan, which needs a quick credit check. Your SSN?",
                 "ok, it's {ssn}"),
            ],
            "resolutions": [
                ("The billing address didn't match the card; I've fixed it, please try again.",
                 "agent fixed a mismatched billing address"),
                ("Nothing is blocked on our side, so it's best to check with your bank.",
                 "agent suggested contacting the bank"),
            ],
        },
        {
            "explicit": [
                "Can I pay by direct debit instead of card? My IBAN is {iban}.",
                "I'd like to switch to SEPA direct debit: {iban}",
            ],
            "implicit": [
                "Could you take the money straight from my bank account? {iban}",
            ],
            "summary": ["Customer asked to switch to direct debit"],
            "details": [
                ("Who is the account holder?", "Me, {name}."),
            ],
            "resolutions": [
                ("I've set up the mandate; the next payment is collected by direct debit.",
                 "agent set up the direct debit mandate"),
            ],
        },
        {
            "explicit": [
                "Do you accept PayPal or only credit cards?",
            ],
            "implicit": [
                "I don't have a credit card, how am I supposed to pay for the {product}?",
            ],
            "summary": ["Customer asked which ways to pay are accepted"],
            "details": [
                ("Is it for a new order?", "Yes, the {product}, {price}."),
            ],
            "resolutions": [
                ("Yes, PayPal and bank transfer both work at checkout.",
                 "agent confirmed that PayPal and bank transfer are accepted"),
            ],
        },
    ],
    "other": [
        {
            "explicit": [
                "Quick product question: does the {product} come with a charger?",
                "Is the {product} compatible with a {device}?",
            ],
            "implicit": [
                "Thinking about the {product}, what's actually in the box?",
            ],
            "summary": ["Customer asked a pre-sales question about a {item}"],
            "details": [
                ("Is it for yourself or a gift?", "A gift for my dad."),
            ],
            "resolutions": [
                ("Yes, it includes the charger and a cable; details at {link}",
                 "agent explained what comes in the box"),
            ],
        },
        {
            "explicit": [
                "Just wanted to leave feedback: the last agent was super helpful.",
            ],
            "implicit": [
                "No problem today, just wanted to say you guys are great, {brand} rocks.",
            ],
            "summary": ["Customer left positive feedback"],
            "details": [],
            "resolutions": [
                ("That's lovely to hear, I'll pass it on to the team!", "agent passed the feedback on"),
            ],
        },
        {
            "explicit": [
                "Can you send me a copy of the personal data you hold about me? {account_ref}",
            ],
            "implicit": [
                "Under GDPR I'd like to know what you store about me.",
            ],
            "summary": ["Customer requested a copy of the personal data held"],
            "details": [
                ("Where should we send the export?", "{email}"),
            ],
            "resolutions": [
                ("I've started the data access request; you'll get the export within 30 days.",
                 "agent started a data access request"),
            ],
        },
        {
            "explicit": [
                "Please stop sending promo emails to {email}, I've unsubscribed twice.",
            ],
            "implicit": [
                "I get three newsletters a day at {email}. Make it stop please.",
            ],
            "summary": ["Customer wanted to stop promotional emails"],
            "details": [],
            "resolutions": [
                ("I've removed that address from all our mailing lists.",
                 "agent removed the customer from the mailing lists"),
            ],
        },
        {
            "explicit": [
                "I run a tech blog ({url}) and would love to review your products.",
            ],
            "implicit": [
                "Hi! Content creator here, {url}. Who do I talk to about a collab?",
            ],
            "summary": ["Customer asked about a product review partnership"],
            "details": [
                ("How big is your audience?", "About 40k monthly readers."),
            ],
            "resolutions": [
                ("I've forwarded this to our partnerships team at {company}.",
                 "agent forwarded the request to the partnerships team"),
            ],
        },
    ],
}

# side remarks that mention other intents' keywords (overlapping weak signals, some negated)
_DISTRACTORS: dict[str, tuple[str, ...]] = {
    "account_access": ("I can't even see my orders or my refund status.",
                       "Not trying to cancel anything, I just need to get in."),
    "order_status": ("Not asking for a refund, I just want it to arrive.",
                     "My card was already charged {price}, so it should be on its way."),
    "refund": ("The order itself arrived fine, this is only about the money.",
               "Please don't send a replacement."),
    "billing": ("I'm not trying to cancel my account.",
                "My login works fine, it's just the charges."),
    "shipping": ("I haven't paid yet, don't want to get billed twice.",),
    "cancellation": ("I was told I'd get a refund if I cancel in time.",
                     "Nothing wrong with the product, just don't need it."),
    "product_defect": ("I don't necessarily want a refund, a working one is fine.",
                       "Delivery was fast at least."),
    "change_address": ("The order status says 'processing' so hopefully not too late.",
                       "Don't cancel it please, just redirect it."),
    "payment_method": ("This isn't about a refund or billing error.",
                       "I also tried my login on the app, same thing at payment."),
    "other": ("No issue with any order.",),
}

_VERIFY = (  # agent request, the items the customer gives, only for US customers
    ("Before I look into it, can you confirm your full name and the email on the account?",
     ("name", "email"), False),
    ("May I have the email address on your account, please?", ("email",), False),
    ("For security, could you give me your date of birth and the phone number on file?",
     ("dob", "phone"), False),
    ("Can I get your account ID so I can pull things up?", ("account",), False),
    ("Could you confirm the first line of your address and the postcode?", ("address",), False),
    ("To verify your identity I'll need your SSN and date of birth.", ("ssn", "dob"), True),
    ("To verify this your identity I'll need your SSN and date of birth.", ("ssn", "dob"), True),
    ("Please confirm your name, account number and date of birth.", ("name", "account", "dob"), False),
    ("What's the best number to reach you on?", ("phone",), False),
    ("Can I have your full name and the last 4 of your SSN? Actually, the full SSN, sorry.",
     ("name", "ssn"), True),
    ("For US accounts I need to confirm your Social Security number and phone, please.",
     ("ssn", "phone"), True),
)
_ITEM_PHRASES: dict[str, tuple[str, ...]] = {
    "name": ("{name}", "name is {name}", "it's {name}"),
    "email": ("{email}", "email: {email}", "email:{email}", "<{email}>", "({email})",
              "my email is {email}"),
    "phone": ("{phone}", "phone {phone}", "tel. {phone}", "mobile: {phone}", "my number is {phone}"),
    "dob": ("{dob_ref}",),
    "account": ("{account_ref}", "{account}"),
    "ssn": ("SSN {ssn}", "social is {ssn}", "ssn: {ssn}", "{ssn}"),
    "address": ("{address}", "address is {address}", "I live at {address}"),
    "order": ("{order_ref}", "#{order}"),
}
_GREETINGS = (
    "Hi, this is {agent} from support. How can I help?",
    "Hello! My name is {agent}, how can I help you today?",
    "Hi there, {agent} here from {brand}. May I help you with something?",
    "Thanks for contacting {brand}! You're chatting with {agent}.",
    "Good morning, {agent} speaking. What can I do for you?",
    "Hi {first}, I'm {agent} and I'll be helping you today.",
    "Welcome to {brand} support. How may I help?",
)
_OPENERS = ("", "", "Hi, ", "Hello, ", "hey ", "Hi {agent}, ", "hi {agent_lc} ", "Good evening. ")
_HOLDS = ("One moment please while I check.", "Thanks, {first}. Let me look into this.",
          "Give me a sec, checking with the warehouse team.", "I hope you don't mind a short wait.",
          "Thank you, {title} {last}, one moment.")
_PINGS = ("hello? still there?", "ok", "Sure, take your time.", "I hope this can be sorted today.",
          "fyi I paid {price} for it, order date {date}")
_NOTES = ("Also I'm in a different time zone, sorry for the slow replies.",
          "btw my ticket from last week was {ticket}",
          "(I bought {qty} more last month, no issues then)",
          "Will do, one sec.", "Grant access to my partner too if needed, whatever is easiest.")
_THANKS = (("thanks, {agent_lc}!", False), ("Thank you {agent}, that was quick.", False),
           ("great, thx {agent_lc}", False), ("ok cheers", False), ("Perfect, thanks so much!", False),
           ("Thanks! Could you send a confirmation to {email}?", True),
           ("Great. Can you email me that? <{email}>", True))
_CLOSINGS = ("You're welcome, {first}! I'll mark this chat as resolved.",
             "Glad I could help. Status: Mark as resolved.", "I hope that helps! Anything else?",
             "May I help with anything else today?", "Have a lovely day, {first}!",
             "No problem at all. Take care!", "Happy to help. Reference for this chat: {ticket}.")
_WILL_DO = ("Will do! Anything else I can help with?", "Will do, it's on its way.")
_SPEAKER_STYLES = ("role", "names", "stamp", "stamp_role", "plain", "user", "visitor")
_SUMMARY_JOINS = ("{i}; {r}.", "{i}. {R}.", "{i} — {r}.", "{i}, and {r}.")


def _ascii_fold(text: str) -> str:
    table = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "æ": "ae",
                           "œ": "oe"})
    folded = unicodedata.normalize("NFKD", text.translate(table))
    return "".join(c for c in folded if c.isascii() and (c.isalnum())).lower()


def _date_text(rng: random.Random, day: dt.date, locale: str) -> str:
    month = _MONTHS[day.month - 1]
    local = {"en_US": f"{day:%m/%d/%Y}", "de_DE": f"{day:%d.%m.%Y}"}.get(locale, f"{day:%d/%m/%Y}")
    return rng.choice((local, local, f"{day:%Y-%m-%d}", f"{month} {day.day}, {day.year}",
                       f"{day.day} {month} {day.year}", f"{day.day:02d}-{month[:3]}-{day.year}"))


class _Chat:
    """One chat's people, their values and the text being built with its spans."""

    def __init__(self, rng: random.Random, fake: Faker, intent: str):
        self.rng, self.fake, self.intent = rng, fake, intent
        self.locale = rng.choices(_LOCALES, _LOCALE_WEIGHTS)[0]
        self.loc = fake[self.locale]
        self.brand = rng.choice(_BRANDS)
        self.item, self.product = rng.choice(_PRODUCTS)
        self.values: dict[str, str] = {}
        self.agent = self._agent_name()
        self.first, self.last = self._customer_name()
        self.parts: list[str] = []
        self.spans: list[dict[str, Any]] = []
        self.pos = 0

    # ---- people ----------------------------------------------------------------------------
    def _agent_name(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(_WORD_NAMES)
        if r < 0.6:
            return self.rng.choice(_UNICODE_NAMES)
        if r < 0.8:
            return self.rng.choice(_PLAIN_AGENT_NAMES)
        return self.fake[self.rng.choice(_LOCALES)].first_name()

    def _customer_name(self) -> tuple[str, str]:
        r = self.rng.random()
        if r < 0.15:
            first = self.rng.choice(_WORD_NAMES)
        elif r < 0.27:
            first = self.rng.choice(_UNICODE_NAMES)
        else:
            first = self.loc.first_name()
        last = self.rng.choice(_ODD_SURNAMES) if self.rng.random() < 0.12 else self.loc.last_name()
        return first, last

    # ---- PII values (made once per chat, on first use) ---------------------------------------
    def value(self, kind: str) -> str:
        if kind not in self.values:
            self.values[kind] = getattr(self, f"_make_{kind}")()
        return self.values[kind]

    def _make_email(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return self.loc.free_email()
        first, last = _ascii_fold(self.first) or "user", _ascii_fold(self.last) or "mail"
        number = self.rng.randint(1, 99)
        local = self.rng.choice((f"{first}.{last}", f"{first}.{last[0]}", f"{first[0]}{last}",
                                 f"{first}_{last}{number}", f"{first}{number}", f"{last}.{first}"))
        domain = self.rng.choice((self.loc.free_email_domain(), self.loc.domain_name(), "mail.com",
                                  "x.org", "posteo.de", "proton.me"))
        return f"{local}@{domain}"

    def _make_phone(self) -> str:
        formats = {
            "en_US": ("(%##) %##-####", "%##.%##.####", "%##-%##-####", "+1 %##-%##-####",
                      "+1 (%##) %##-####"),
            "en_GB": ("+44 20 #### ####", "07### ######", "+44 7### ######", "020 #### ####",
                      "+44 (0)161 ### ####"),
            "de_DE": ("+49 30 ######", "+49 (0)30 ########", "015# ########", "030/#######",
                      "+49 151 ########"),
            "fr_FR": ("06########", "+33 6 ## ## ## ##", "01 ## ## ## ##", "06.##.##.##.##",
                      "+33 (0)7 ## ## ## ##"),
            "en_IN": ("+91 9#### #####", "09#########", "+91-%#########", "+91 8#### #####"),
        }[self.locale]
        return self.loc.numerify(self.rng.choice(formats))

    def _make_card(self) -> str:
        kind = self.rng.choice(_CARD_TYPES)
        for _ in range(20):
            digits = self.fake["en_US"].credit_card_number(card_type=kind)
            if _stdnum_luhn.is_valid(digits):
                break
        else:  # pragma: no cover - Faker always returns Luhn-valid numbers
            raise RuntimeError(f"Faker returned no Luhn-valid {kind} number")
        if self.rng.random() < 0.35:
            return digits
        sep = self.rng.choice((" ", "-"))
        n = len(digits)
        sizes = {15: (4, 6, 5), 14: (4, 6, 4)}.get(n) or tuple([4] * (n // 4) + ([n % 4] if n % 4 else []))
        groups, i = [], 0
        for size in sizes:
            groups.append(digits[i:i + size])
            i += size
        return sep.join(groups)

    def _make_ssn(self) -> str:
        ssn = self.fake["en_US"].ssn()
        return ssn.replace("-", "") if self.rng.random() < 0.2 else ssn

    def _make_iban(self) -> str:
        locale = self.locale if self.locale in _IBAN_LOCALES else self.rng.choice(_IBAN_LOCALES)
        for _ in range(20):
            value = self.fake[locale].iban()
            if _stdnum_iban.is_valid(value):
                break
        else:  # pragma: no cover
            raise RuntimeError(f"Faker returned no valid {locale} IBAN")
        if self.rng.random() < 0.45:
            return " ".join(value[i:i + 4] for i in range(0, len(value), 4))
        return value

    def _make_ip(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.loc.ipv4_public()
        if r < 0.7:
            return self.loc.ipv4_private()
        address = self.loc.ipv6()
        return ipaddress.ip_address(address).compressed if self.rng.random() < 0.5 else address

    def _make_url(self) -> str:
        token = self.loc.lexify("???????", letters=_TOKEN_CHARS)
        slug = f"{_ascii_fold(self.first)}-{_ascii_fold(self.last)}" or "me"
        return self.rng.choice((
            f"https://imgur.com/a/{token}", f"https://drive.google.com/file/d/{token}{token}/view",
            f"{self.loc.url()}photos/IMG_{self.rng.randint(1000, 9999)}.jpg",
            f"https://youtu.be/{token}x", f"https://www.{slug}.blog/", f"{self.loc.url()}",
            f"https://www.linkedin.com/in/{slug}",
        ))

    def _make_link(self) -> str:
        domain = re.sub(r"[^a-z]", "", self.brand.lower()) + self.rng.choice((".com", ".co.uk", ".de"))
        token = self.loc.hexify("^^^^^^^^^^^^")
        return self.rng.choice((f"https://help.{domain}/reset?token={token}",
                                f"https://www.{domain}/account/security", f"https://{domain}/r/{token}",
                                f"http://{domain}/returns?id={token}"))

    def _make_address(self) -> str:
        return re.sub(r"\s*\n\s*", ", ", self.loc.address().strip())

    def _make_new_address(self) -> str:
        return self._make_address()

    def _make_dob(self) -> str:
        day = dt.date(1940, 1, 1) + dt.timedelta(days=self.rng.randrange(24_000))
        return _date_text(self.rng, day, self.locale)

    def _make_order(self) -> str:
        return self.loc.numerify(self.rng.choice(("A-######", "%######", "ORD-2024-#####",
                                                  "%##-#######-#######", "SC%#######", "%#####-##")))

    def _make_account(self) -> str:
        return self.loc.numerify(self.rng.choice(("ACC-%####", "%#####", "CU-%######", "UID%#######",
                                                  "%#-####-##")))

    # ---- non-PII values (hard negatives) ----------------------------------------------------
    def _price(self) -> str:
        amount = self.rng.choice((self.rng.randint(5, 99) + self.rng.choice((0.99, 0.5, 0.0)),
                                  self.rng.randint(100, 2500) + self.rng.randint(0, 99) / 100))
        us = f"{amount:,.2f}"
        eu = us.replace(",", "X").replace(".", ",").replace("X", ".")
        return {"en_US": f"${us}", "en_GB": f"£{us}", "de_DE": self.rng.choice((f"{eu} €", f"€{eu}")),
                "fr_FR": f"{eu} €", "en_IN": self.rng.choice((f"₹{amount:,.0f}", f"Rs. {amount:,.0f}"))}[
            self.locale]

    def _tracking(self) -> str:
        up = "ABCDEFGHJKLMNPRSTUVWXYZ"
        return self.loc.bothify(self.rng.choice(
            ("1Z###??#########", "9400 #### #### #### #### ##", "JD01##############", "??#########GB",
             "6A###########", "###########")), letters=up)

    def _nonbirth_date(self) -> str:
        day = dt.date(2023, 1, 1) + dt.timedelta(days=self.rng.randrange(900))
        month = _MONTHS[day.month - 1]
        return self.rng.choice((_date_text(self.rng, day, self.locale), f"{month} {day.day}",
                                f"{day.day} {month}", f"{month[:3]} {day.day}"))

    def plain(self, slot: str) -> str:
        """The text of a non-PII slot."""
        rng = self.rng
        makers: dict[str, Callable[[], str]] = {
            "brand": lambda: self.brand,
            "product": lambda: self.product,
            "item": lambda: self.item,
            "device": lambda: rng.choice(_DEVICES),
            "price": self._price,
            "qty": lambda: rng.choice(("2 units", "3 pairs", "x2", "qty 4", "a pack of 12", "two of them",
                                       "3 items", "5 pcs")),
            "date": self._nonbirth_date,
            "carrier": lambda: rng.choice(_CARRIERS),
            "tracking": self._tracking,
            "last4": lambda: self.loc.numerify("####"),
            "ticket": lambda: self.loc.numerify(rng.choice(("case #%####", "ticket %####", "CS-%#####"))),
            "company": lambda: self.loc.company(),
            "country": lambda: rng.choice(_COUNTRIES),
            "days": lambda: rng.choice(("5-7 business days", "3 to 5 working days", "up to 10 days")),
            "serial": lambda: self.loc.bothify(
                rng.choice(("SN-?#??#?#", "S/N ##??-####", "serial ###-??-###")),
                letters="ABCDEFGHKMNPQRTXYZ"),
            "title": lambda: rng.choice(("Ms.", "Mr.", "Dr.")),
            "expiry": lambda: f"{rng.randint(1, 12):02d}/{rng.randint(25, 31)}",
        }
        if slot not in makers:
            raise KeyError(f"unknown template slot {{{slot}}}")
        return makers[slot]()

    # ---- slots -> segments --------------------------------------------------------------------
    _PII_SLOTS = {"email": "EMAIL", "phone": "PHONE", "card": "CREDIT_CARD", "ssn": "SSN", "iban": "IBAN",
                  "ip": "IP_ADDRESS", "url": "URL", "link": "URL", "address": "ADDRESS",
                  "new_address": "ADDRESS", "dob": "DATE_OF_BIRTH", "order": "ORDER_ID",
                  "account": "ACCOUNT_ID"}
    _REF_PREFIXES = {
        "order_ref": ("order", ("order #", "order number ", "order ", "order no. ", "order #")),
        "account_ref": ("account", ("account ID ", "acct ", "account number ", "customer ID ",
                                    "account #", "acct no. ")),
        "dob_ref": ("dob", ("DOB ", "DOB: ", "born on ", "date of birth ", "d.o.b. ", "birthday is ")),
    }

    def slot(self, name: str) -> list[_Seg]:
        if name in self._PII_SLOTS:
            return [(self.value(name), self._PII_SLOTS[name])]
        if name in self._REF_PREFIXES:
            kind, prefixes = self._REF_PREFIXES[name]
            return [(self.rng.choice(prefixes), None), (self.value(kind), self._PII_SLOTS[kind])]
        if name == "name":
            return [(f"{self.first} {self.last}", "PERSON")]
        if name in ("first", "last", "agent"):
            return [({"first": self.first, "last": self.last, "agent": self.agent}[name], "PERSON")]
        if name == "agent_lc":
            return [(self.agent.lower(), "PERSON")]
        return [(self.plain(name), None)]

    def render(self, template: str) -> list[_Seg]:
        out: list[_Seg] = []
        for i, piece in enumerate(re.split(r"\{(\w+)\}", template)):
            out.extend(self.slot(piece) if i % 2 else [(piece, None)])
        return out

    # ---- building the text ------------------------------------------------------------------
    def emit(self, segments: Sequence[_Seg]) -> None:
        for text, label in segments:
            if not text:
                continue
            if label is not None:
                self.spans.append({"start": self.pos, "end": self.pos + len(text), "label": label,
                                   "_value": text})
            self.parts.append(text)
            self.pos += len(text)

    def finish(self) -> tuple[str, list[dict[str, Any]]]:
        text = "".join(self.parts)
        spans = []
        for span in self.spans:
            value = span.pop("_value")
            if text[span["start"]:span["end"]] != value:  # the builder's invariant
                raise AssertionError(f"span {span} does not cover {value!r}")
            spans.append(span)
        return text, spans


def _verify_reply(chat: _Chat, items: Sequence[str]) -> list[_Seg]:
    rng = chat.rng
    if tuple(items[:2]) == ("name", "email") and rng.random() < 0.35:
        phrases = [rng.choice(("{name} <{email}>", "{name} ({email})"))] + [
            rng.choice(_ITEM_PHRASES[k]) for k in items[2:]]
    else:
        phrases = [rng.choice(_ITEM_PHRASES[k]) for k in items]
    sep = rng.choice((", ", " and ", "; ", " / ", ", "))
    body = sep.join(phrases) if len(phrases) < 3 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    opener = rng.choice(("Sure, ", "Sure: ", "ok ", "Yes - ", "", "Of course. ", "yep "))
    ending = rng.choice((".", "", " thanks", "!", "."))
    return chat.render(opener + body + ending)


def _plan_turns(rng: random.Random, target: int, n_details: int) -> list[str]:
    """Turn kinds in chat order, exactly ``target`` of them."""
    groups = [("greeting", 1), ("verify", 2), ("hold", 1), ("ping", 1), ("thanks", 1), ("closing", 1)]
    groups += [(f"detail{k}", 2) for k in range(n_details)]
    rng.shuffle(groups)
    chosen, count = set(), 2  # issue + resolution
    for name, size in groups:
        if count + size <= target:
            chosen.add(name)
            count += size
    notes = target - count
    order = ["greeting", "issue", "verify", *[f"detail{k}" for k in range(n_details)], "hold", "ping",
             "resolution", "thanks", "closing"]
    kinds: list[str] = []
    for name in order:
        if name in ("issue", "resolution") or name in chosen:
            kinds += [f"{name}_a", f"{name}_c"] if name == "verify" or name.startswith("detail") else [name]
        if name == "issue":
            kinds += ["note"] * notes
    return kinds


def _speaker_tags(chat: _Chat) -> tuple[Callable[[], list[_Seg]], Callable[[], list[_Seg]]]:
    rng = chat.rng
    style = rng.choice(_SPEAKER_STYLES)
    clock = [rng.randint(8, 20) * 60 + rng.randint(0, 59)]

    def stamp() -> list[_Seg]:
        clock[0] += rng.randint(0, 3)
        return [(f"[{clock[0] // 60 % 24:02d}:{clock[0] % 60:02d}] ", None)]

    cust_name: list[_Seg] = ([(f"{chat.first} {chat.last}", "PERSON")] if rng.random() < 0.4
                             else [(chat.first, "PERSON")])
    agent: list[_Seg] = [(chat.agent, "PERSON")]
    tags: dict[str, tuple[Callable[[], list[_Seg]], Callable[[], list[_Seg]]]] = {
        "role": (lambda: [("Customer", None)], lambda: [("Agent (", None), *agent, (")", None)]),
        "names": (lambda: cust_name, lambda: agent),
        "stamp": (lambda: stamp() + cust_name, lambda: stamp() + agent),
        "stamp_role": (lambda: stamp() + [("Customer", None)],
                       lambda: stamp() + agent + [(" (Support)", None)]),
        "plain": (lambda: [("Customer", None)], lambda: [("Support", None)]),
        "user": (lambda: [("User", None)], lambda: [("Agent", None)]),
        "visitor": (lambda: [("Visitor", None)], lambda: agent + [(f" ({chat.brand})", None)]),
    }
    return tags[style]


def _summary(chat: _Chat, scenario: dict[str, Any], resolution: str, text: str,
             spans: list[dict[str, Any]]) -> str:
    values = [text[s["start"]:s["end"]] for s in spans]
    candidates = [(i, j) for i in scenario["summary"] for j in _SUMMARY_JOINS]
    chat.rng.shuffle(candidates)
    for issue, join in candidates:
        issue = issue.replace("{item}", chat.item)
        summary = join.format(i=issue, r=resolution, R=resolution[0].upper() + resolution[1:])
        if not any(_mentions(summary, v) for v in values):
            return summary
    raise RuntimeError(f"every summary of a {chat.intent!r} chat would repeat a PII value")


def _mentions(summary: str, value: str) -> bool:
    """Whether ``value`` occurs in ``summary`` as a whole token (case-insensitive)."""
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", summary, flags=re.IGNORECASE) is not None


def _one_chat(rng: random.Random, fake: Faker, index: int) -> dict[str, Any]:
    intent = rng.choices(INTENTS, _INTENT_WEIGHTS)[0]
    chat = _Chat(rng, fake, intent)
    scenario = rng.choice(_SCENARIOS[intent])
    implicit = rng.random() < _IMPLICIT_SHARE
    issue = rng.choice(scenario["implicit" if implicit else "explicit"])
    details = [d for d in scenario["details"] if chat.locale == "en_US" or "{ssn}" not in d[1]]
    rng.shuffle(details)
    verify = [v for v in _VERIFY if chat.locale == "en_US" or not v[2]]
    if "{order" in issue or intent in ("order_status", "refund", "shipping", "cancellation"):
        verify.append(("Can you tell me the order number?", ("order",), False))
    verify_text, verify_items, _ = rng.choice(verify)
    resolution_text, resolution_summary = rng.choice(scenario["resolutions"])
    kinds = _plan_turns(rng, rng.randint(3, 10), len(details))
    thanks_text, asks = rng.choice(_THANKS if "thanks" in kinds else _THANKS[:5])
    closing = rng.choice(_WILL_DO if asks else _CLOSINGS)
    cust_tag, agent_tag = _speaker_tags(chat)

    if rng.random() < 0.15:
        chat.emit([(f"--- chat started {chat.plain('date')} ---\n", None)])
    for t, kind in enumerate(kinds):
        if t:
            chat.emit([("\n", None)])
        agent_turn = kind in ("greeting", "verify_a", "hold", "resolution", "closing") or kind.endswith(
            "_a") and kind.startswith("detail")
        chat.emit([*(agent_tag() if agent_turn else cust_tag()), (": ", None)])
        if kind == "greeting":
            chat.emit(chat.render(rng.choice(_GREETINGS)))
        elif kind == "issue":
            opener = rng.choice(_OPENERS) if "greeting" in kinds else rng.choice(_OPENERS[:5])
            if opener and not opener.endswith(". ") and issue[0].isupper() and not re.match(r"I\b", issue):
                issue = issue[0].lower() + issue[1:]
            extra = ""
            if rng.random() < 0.3:
                extra = (" " if issue[-1] in ".?!" else ". ") + rng.choice(_DISTRACTORS[intent])
            chat.emit(chat.render(opener + issue + extra))
        elif kind == "note":
            chat.emit(chat.render(rng.choice(_NOTES)))
        elif kind == "verify_a":
            chat.emit(chat.render(verify_text))
        elif kind == "verify_c":
            chat.emit(_verify_reply(chat, verify_items))
        elif kind.startswith("detail"):
            k = int(kind[len("detail"):-2])
            chat.emit(chat.render(details[k][0 if kind.endswith("_a") else 1]))
        elif kind == "hold":
            chat.emit(chat.render(rng.choice(_HOLDS)))
        elif kind == "ping":
            chat.emit(chat.render(rng.choice(_PINGS)))
        elif kind == "resolution":
            chat.emit(chat.render(resolution_text))
        elif kind == "thanks":
            chat.emit(chat.render(thanks_text))
        elif kind == "closing":
            chat.emit(chat.render(closing))
    text, spans = chat.finish()
    return {"id": f"chat-{index:05d}", "text": text, "intent": intent,
            "summary": _summary(chat, scenario, resolution_summary, text, spans), "spans": spans}


def generate(n: int = 600, *, seed: int = 0) -> list[dict[str, Any]]:
    """Generate ``n`` support chats with gold PII spans, an intent and a PII-free summary.

    Parameters
    ----------
    n : int
        Number of chats (>= 0).
    seed : int
        Seeds both the structure (``random.Random``) and Faker (``seed_instance``); the same seed
        gives identical output.

    Returns
    -------
    list of dict
        ``{"id": "chat-00001", "text", "intent", "summary", "spans": [{"start", "end", "label"}]}``.

    Examples
    --------
    >>> chat = generate(1, seed=7)[0]
    >>> chat["id"], chat["intent"] in INTENTS
    ('chat-00001', True)
    >>> generate(5, seed=7) == generate(5, seed=7)
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    rng = random.Random(seed)
    fake = Faker(list(_LOCALES))
    fake.seed_instance(seed)
    return [_one_chat(rng, fake, i + 1) for i in range(n)]


def write(path: str | os.PathLike[str], n: int = 600, seed: int = 0) -> Path:
    """Generate chats and write them atomically as JSON Lines (``.jsonl``) or CSV (``.csv``).

    In CSV the ``spans`` column holds the span list as a JSON string.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write(pathlib.Path(tempfile.mkdtemp()) / "chats.jsonl", n=3, seed=1)
    >>> len(read(out))
    3
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .jsonl or .csv")
    records = generate(n, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            if suffix == ".jsonl":
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                writer = csv.DictWriter(fh, fieldnames=["id", "text", "intent", "summary", "spans"])
                writer.writeheader()
                for record in records:
                    writer.writerow({**record, "spans": json.dumps(record["spans"])})
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read chats written by :func:`write` (``.jsonl`` or ``.csv``) back into records.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write(pathlib.Path(tempfile.mkdtemp()) / "chats.csv", n=2, seed=3)
    >>> read(out) == generate(2, seed=3)
    True
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return [{**row, "spans": json.loads(row["spans"])} for row in csv.DictReader(fh)]
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python generate_chats.py OUT [--n 600] [--seed 0]``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> main([str(pathlib.Path(tempfile.mkdtemp()) / "c.jsonl"), "--n", "2"])  # doctest: +ELLIPSIS
    wrote 2 chats to ...
    0
    """
    parser = argparse.ArgumentParser(description="Generate synthetic support chats with gold PII spans.")
    parser.add_argument("out", help="output file, .jsonl or .csv")
    parser.add_argument("--n", type=int, default=600, help="number of chats (default 600)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        out = write(args.out, n=args.n, seed=args.seed)
    except (ValueError, OSError) as err:
        parser.exit(2, f"error: {err}\n")
    print(f"wrote {args.n} chats to {out} in {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
