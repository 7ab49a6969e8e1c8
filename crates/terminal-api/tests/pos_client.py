#!/usr/bin/env python3
"""A shop's POS, written as an integrator would (Python, requests, an SSE
reader), driving a full sale through Till's local terminal API.

Run by crates/terminal-api/tests/it/python.rs, which starts the till (the
sandbox's wallets, a virtual receipt printer, the API) and plays the manager
who approves refund requests on the till. Environment:

  TILL_API        the API's base URL (http://127.0.0.1:PORT)
  TILL_KEY        this POS's key
  TILL_REVOKED    a key a manager revoked
  SANDBOX         the sandbox's origin (the customer's side of bKash)

Prints one JSON line per step; exits 0 only if every check held.
"""

import json
import os
import queue
import sys
import threading
import time

import requests

API = os.environ["TILL_API"]
KEY = os.environ["TILL_KEY"]
REVOKED = os.environ["TILL_REVOKED"]
SANDBOX = os.environ["SANDBOX"]
AUTH = {"Authorization": f"Bearer {KEY}"}


def step(name, **facts):
    print(json.dumps({"step": name, **facts}), flush=True)


def check(cond, what):
    if not cond:
        step("failed", what=what)
        sys.exit(1)


class EventStream:
    """Reads GET /v1/events on a thread: each event's id, type and data."""

    def __init__(self, last_event_id=None):
        headers = dict(AUTH)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.resp = requests.get(f"{API}/v1/events", headers=headers, stream=True, timeout=(5, 60))
        check(self.resp.status_code == 200, f"stream opens: {self.resp.status_code}")
        check(self.resp.headers["content-type"].startswith("text/event-stream"), "SSE content type")
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        ev = {}
        for raw in self.resp.iter_lines(decode_unicode=True):
            if raw is None:
                continue
            if raw == "":
                if "data" in ev:
                    self.events.put({"id": int(ev.get("id", "0")), "type": ev.get("event", "message"),
                                     "data": json.loads(ev["data"])})
                ev = {}
            elif raw.startswith(":"):
                continue  # keep-alive comment
            else:
                field, _, value = raw.partition(":")
                value = value[1:] if value.startswith(" ") else value
                ev[field] = ev[field] + "\n" + value if field == "data" and field in ev else value

    def wait_for(self, charge_id, kind, within=30):
        """Events up to the first `kind` of charge `charge_id` (that one included)."""
        seen = []
        deadline = time.time() + within
        while time.time() < deadline:
            try:
                e = self.events.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            seen.append(e["type"])
            if e["type"] == kind and e["data"]["charge"]["id"] == charge_id:
                return e, seen
        check(False, f"no {kind} for {charge_id} within {within} s (saw {seen})")


def post(path, body, key=KEY):
    return requests.post(f"{API}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def error_code(resp):
    return resp.json()["error"]["code"]


def main():
    wallets = requests.get(f"{API}/v1/wallets", headers=AUTH, timeout=10).json()
    check(any(w["wallet"] == "bkash" and "BDT" in w["currencies"] for w in wallets), f"bKash is on: {wallets}")
    step("paired", wallets=[w["wallet"] for w in wallets])

    stream = EventStream()
    sale = {"amount": "120.50", "currency": "BDT", "wallet": "bkash", "reference": "PY-ORDER-1001"}
    r = post("/v1/charges", sale)
    check(r.status_code == 201, f"charge started: {r.status_code} {r.text}")
    charge = r.json()
    check(charge["status"] == "awaiting_customer", f"awaiting the customer: {charge['status']}")
    check(charge["customer"]["step"] == "page" and charge["customer"]["page_url"], "a wallet page")
    check(charge["pos"]["name"] == "Python POS", "the charge names this POS")
    cid = charge["id"]
    check(r.headers["Location"] == f"/v1/charges/{cid}", "Location header")
    step("charged", id=cid, amount=charge["amount"], wallet=charge["wallet"])

    # The POS retries (a timeout on its side): the same payment, never a second one.
    again = post("/v1/charges", sale)
    check(again.status_code == 200 and again.json()["id"] == cid and again.json()["replayed"], "replay answers the same charge")
    clash = post("/v1/charges", dict(sale, amount="99.00"))
    check(clash.status_code == 409 and error_code(clash) == "reference_conflict", f"another amount: {clash.text}")
    step("replayed", same_id=True)

    # The customer pays on bKash's page (the sandbox's), which sends the browser back to the till.
    payment_id = charge["customer"]["page_url"].split("paymentId=")[1].split("&")[0]
    page = requests.post(f"{SANDBOX}/sim/bkash/checkout/{payment_id}",
                         json={"wallet": "01770618575", "otp": "123456", "pin": "12121", "action": "pay"}, timeout=10).json()
    back = requests.get(page["redirect"], timeout=30)
    check(back.status_code == 200, f"the till took the callback: {back.status_code}")
    paid, seen = stream.wait_for(cid, "charge.paid")
    check(paid["data"]["charge"]["paid"] is True, "paid in the event")
    check(paid["data"]["charge"]["transaction_reference"], "the wallet's transaction id")
    step("paid", events=seen, trx=paid["data"]["charge"]["transaction_reference"])

    # The receipt prints on the till's printer by itself.
    deadline = time.time() + 20
    receipt = None
    while time.time() < deadline:
        receipt = requests.get(f"{API}/v1/charges/{cid}", headers=AUTH, timeout=10).json()["receipt"]
        if receipt["status"] != "none":
            break
        time.sleep(0.1)
    check(receipt["status"] == "printed", f"receipt printed: {receipt}")
    step("receipt", status=receipt["status"])

    # A refund is only a request: the manager approves it on the till.
    r = post(f"/v1/charges/{cid}/refund-requests", {"amount": "120.50", "reason": "customer changed mind"})
    check(r.status_code == 201 and r.json()["status"] == "pending", f"refund requested: {r.text}")
    step("refund_requested", id=r.json()["id"])
    approved, _ = stream.wait_for(cid, "refund_request.approved")
    refunded, seen = stream.wait_for(cid, "charge.refunded")
    check(refunded["data"]["charge"]["refunded"] == "120.50", "all of it refunded")
    check(refunded["id"] > approved["id"], "events in order")
    step("refunded", events=seen)

    # A stream resumed after the paid event hears what followed it, again.
    resumed = EventStream(last_event_id=paid["id"])
    e, _ = resumed.wait_for(cid, "charge.refunded", within=10)
    check(e["id"] == refunded["id"], "the same event ids on a resumed stream")
    step("resumed", after=paid["id"])

    # Keys: a wrong one, a revoked one, none.
    wrong = KEY.split(".")[0] + "." + "f" * 64
    r = post("/v1/charges", dict(sale, reference="PY-2"), key=wrong)
    check(r.status_code == 401 and error_code(r) == "key_invalid", f"wrong key: {r.status_code} {r.text}")
    r = post("/v1/charges", dict(sale, reference="PY-3"), key=REVOKED)
    check(r.status_code == 401 and error_code(r) == "key_revoked", f"revoked key: {r.text}")
    r = requests.get(f"{API}/v1/charges/{cid}", timeout=10)
    check(r.status_code == 401 and error_code(r) == "key_missing", "no key")
    # Bad input, each with its code; an unknown charge.
    for body, status, code in [
        (dict(sale, amount="-1", reference="PY-4"), 400, "amount_not_positive"),
        (dict(sale, amount="1.234", reference="PY-5"), 400, "amount_decimals"),
        (dict(sale, currency="XYZ", reference="PY-6"), 400, "currency_unknown"),
        (dict(sale, wallet="cash", reference="PY-7"), 400, "wallet_unknown"),
    ]:
        r = post("/v1/charges", body)
        check((r.status_code, error_code(r)) == (status, code), f"{body}: {r.status_code} {r.text}")
    r = requests.post(f"{API}/v1/charges", data="{not json", headers=dict(AUTH, **{"Content-Type": "application/json"}), timeout=10)
    check(r.status_code == 400 and error_code(r) == "malformed_json", "malformed JSON")
    r = requests.get(f"{API}/v1/charges/NOPE", headers=AUTH, timeout=10)
    check(r.status_code == 404 and error_code(r) == "not_found", "unknown id")
    step("refusals", checked=9)
    step("done")


if __name__ == "__main__":
    main()
