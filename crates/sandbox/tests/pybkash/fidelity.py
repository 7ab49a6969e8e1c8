"""Drive pybkash (a client no one here wrote) through till-sandbox.

grant -> create -> customer pays via /sim/bkash/checkout -> execute -> query
-> refund -> search, then the agreement flow, sync and async. Any exception
(KeyError on a missing field, APIError, HTTP error) fails the run.
"""
import asyncio
import sys
import time

import httpx
from pybkash import AsyncClient, AsyncToken, Client, Token

origin, username, password, app_key, app_secret = sys.argv[1:6]
base = origin + "/v1.2.0-beta"
run = str(int(time.time() * 1000))[-6:]


def customer(payment_id, **body):
    body.setdefault("otp", "123456")
    body.setdefault("pin", "12121")
    r = httpx.post(f"{origin}/sim/bkash/checkout/{payment_id}", json=body)
    r.raise_for_status()
    out = r.json()
    assert out["status"] == "success", out
    assert f"paymentID={payment_id}" in out["redirect"], out
    return out


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def sync_flow():
    token = Token(username=username, password=password, app_key=app_key, app_secret=app_secret, sandbox=True)
    token.base_url = base
    client = Client(token)
    pay = client.create_payment(callback_url="https://merchant.example.com/cb", payer_reference="01770618575",
                                amount=250, invoice_number=f"PY-{run}-1")
    check(pay.payment_id.startswith("TR0011"), "create_payment")
    customer(pay.payment_id, wallet="01770618575")
    ex = client.execute_payment(pay.payment_id)
    check(ex.is_complete() and ex.amount == "250", "execute_payment")
    q = client.query_payment(pay.payment_id)
    check(q.transaction_status == "Completed" and q.verification_status == "Complete", "query_payment")
    rf = client.execute_refund(pay.payment_id, ex.trx_id, 100, sku="SKU-1", reason="return")
    check(rf.is_complete() and rf.original_trx_id == ex.trx_id, "execute_refund")
    tx = client.search_trx(ex.trx_id)
    check(tx.transaction_status == "Completed" and tx.amount == "250", "search_trx")
    tx = client.search_trx(rf.refund_trx_id)
    check(tx.original_trx_amount is not None, "search_trx (refund)")

    ag = client.create_agreement(callback_url="https://merchant.example.com/cb", payer_reference="01929918378")
    customer(ag.payment_id, wallet="01929918378")
    ax = client.execute_agreement(ag.payment_id)
    check(ax.agreement_status == "Completed", "execute_agreement")
    aq = client.query_agreement(ag.payment_id)
    check(aq.agreement_id == ax.agreement_id, "query_agreement")
    p2 = client.create_payment(callback_url="https://merchant.example.com/cb", payer_reference="01929918378",
                               amount=120.5, agreement_id=ax.agreement_id, invoice_number=f"PY-{run}-2")
    customer(p2.payment_id)
    e2 = client.execute_payment(p2.payment_id)
    check(e2.is_complete() and e2.agreement_id == ax.agreement_id, "execute_payment (with agreement)")
    c = client.cancel_agreement(ax.agreement_id)
    check(c.agreement_status == "Cancelled", "cancel_agreement")
    client.close()


async def async_flow():
    token = AsyncToken(username=username, password=password, app_key=app_key, app_secret=app_secret, sandbox=True)
    token.base_url = base
    client = AsyncClient(token)
    pay = await client.create_payment(callback_url="https://merchant.example.com/cb", payer_reference="01877722345",
                                      amount=99.99, invoice_number=f"PY-{run}-3")
    customer(pay.payment_id, wallet="01877722345")
    ex = await client.execute_payment(pay.payment_id)
    check(ex.is_complete(), "async execute_payment")
    q = await client.query_payment(pay.payment_id)
    check(q.transaction_status == "Completed", "async query_payment")
    rf = await client.execute_refund(pay.payment_id, ex.trx_id, 99.99)
    check(rf.is_complete(), "async execute_refund")
    tx = await client.search_trx(ex.trx_id)
    check(tx.trx_id == ex.trx_id, "async search_trx")
    close = getattr(client, "close", None) or getattr(client, "aclose", None)
    if close:
        res = close()
        if asyncio.iscoroutine(res):
            await res


sync_flow()
asyncio.run(async_flow())
print("pybkash fidelity: all flows passed")
