//! Receipts printed by the engine on a virtual network printer (raw TCP on
//! 127.0.0.1, answering `DLE EOT 4` as `crates/receipt/tests/print.rs`'s
//! does): auto-print after settlement, a dead printer that leaves the payment
//! settled, and a reprint marked COPY.

use crate::util::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_core::engine::PrintKind;
use till_core::reason::ReasonCode;
use till_core::{EngineError, PaymentState, ProviderKind};

/// Answers a status query with "ready" (0x12) and stores every other byte,
/// one `Vec` per connection.
struct VirtualPrinter {
    addr: SocketAddr,
    jobs: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl VirtualPrinter {
    fn start() -> VirtualPrinter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let jobs = Arc::new(Mutex::new(Vec::new()));
        let store = jobs.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let store = store.clone();
                std::thread::spawn(move || {
                    stream
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    let mut received = Vec::new();
                    let mut answered = false;
                    let mut buf = [0u8; 8192];
                    loop {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => received.extend_from_slice(&buf[..n]),
                        }
                        if !answered && received.starts_with(&[0x10, 0x04, 0x04]) {
                            answered = true;
                            received.drain(..3);
                            stream.write_all(&[0x12]).unwrap();
                        }
                    }
                    store.lock().unwrap().push(received);
                });
            }
        });
        VirtualPrinter { addr, jobs }
    }

    fn printed(&self) -> Vec<Vec<u8>> {
        self.jobs
            .lock()
            .unwrap()
            .iter()
            .filter(|j| !j.is_empty())
            .cloned()
            .collect()
    }
}

fn printer_on(target: &str, auto: bool) -> Vec<(&'static str, String)> {
    vec![
        ("TILL__PRINTER__ENABLED", "true".into()),
        ("TILL__PRINTER__TARGET", target.into()),
        ("TILL__PRINTER__AUTO_PRINT", auto.to_string()),
    ]
}

async fn rig_printing(target: &str, auto: bool) -> Rig {
    let pairs = printer_on(target, auto);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    rig_with(sandbox_config(), &pairs).await
}

#[tokio::test]
async fn a_settled_payment_prints_by_itself_and_a_reprint_is_a_copy() {
    let printer = VirtualPrinter::start();
    let r = rig_printing(&format!("tcp://{}", printer.addr), true).await;
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("42.00"), "c")
        .await
        .unwrap();
    let p = r
        .wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    wait_for("the automatic receipt's record", || {
        r.engine.last_print(&p.id).unwrap().is_some()
    })
    .await;
    let rec = r.engine.last_print(&p.id).unwrap().unwrap();
    assert!(rec.printed, "{rec:?}");
    assert_eq!(rec.kind, PrintKind::Sale);
    wait_for("the printer to hold the receipt", || {
        printer.printed().len() == 1
    })
    .await;
    let sale = printer.printed()[0].clone();
    // ESC @ first, a raster image, a cut at the end: a receipt, not noise.
    assert!(sale.starts_with(&[0x1b, 0x40]), "{:?}", &sale[..8]);
    assert!(sale.windows(3).any(|w| w == [0x1d, 0x76, 0x30]));
    // What was printed is this payment's: its transaction reference (the QR)
    // and invoice.
    let receipt = r.engine.receipt(&p.id, false).unwrap();
    assert_eq!(Some(receipt.reference.clone()), p.refs.transaction);
    assert_eq!(receipt.invoice, p.invoice);
    assert_eq!(receipt.amount, "৳ 42.00");
    assert!(!receipt.copy);

    // A reprint: COPY on the receipt, other bytes on the paper, a copy record.
    let out = r.engine.print_receipt(&p.id, true).await.unwrap();
    assert_eq!(out.kind, PrintKind::Copy);
    assert!(r.engine.receipt(&p.id, true).unwrap().copy);
    wait_for("the copy", || printer.printed().len() == 2).await;
    assert_ne!(
        printer.printed()[1],
        sale,
        "the copy looks like the original"
    );
    let kinds: Vec<_> = r
        .engine
        .prints_of(&p.id)
        .unwrap()
        .iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, [PrintKind::Sale, PrintKind::Copy]);
    // Settling printed once: no second automatic receipt came later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(printer.printed().len(), 2);
}

#[tokio::test]
async fn a_printer_that_does_not_answer_leaves_the_payment_settled() {
    // A port nothing listens on: connection refused.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let r = rig_printing(&format!("tcp://{closed}"), true).await;
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("7.00"), "c")
        .await
        .unwrap();
    let p = r
        .wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    wait_for("the failed print's record", || {
        r.engine.last_print(&p.id).unwrap().is_some()
    })
    .await;
    let rec = r.engine.last_print(&p.id).unwrap().unwrap();
    assert!(!rec.printed);
    let why = rec.reason.unwrap();
    assert_eq!(why.code, ReasonCode::PrinterNoAnswer);
    assert_eq!(why.params["addr"], closed.to_string());
    assert_eq!(
        r.engine.payment(&p.id).unwrap().state,
        PaymentState::Settled
    );
    // Asked again by hand: the same code comes back to the caller.
    match r.engine.print_receipt(&p.id, false).await {
        Err(e @ EngineError::Print(_)) => {
            assert_eq!(e.reason().unwrap().code, ReasonCode::PrinterNoAnswer)
        }
        other => panic!("printed to a closed port: {other:?}"),
    }
    assert_eq!(
        r.engine.payment(&p.id).unwrap().state,
        PaymentState::Settled
    );
    assert_eq!(r.engine.prints_of(&p.id).unwrap().len(), 2);
}

#[tokio::test]
async fn without_auto_print_nothing_prints_until_asked() {
    let printer = VirtualPrinter::start();
    let r = rig_printing(&format!("tcp://{}", printer.addr), false).await;
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("3.00"), "c")
        .await
        .unwrap();
    let p = r
        .wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(r.engine.last_print(&p.id).unwrap().is_none());
    assert!(printer.printed().is_empty());
    r.engine.test_print().await.unwrap();
    wait_for("the test page", || printer.printed().len() == 1).await;
    // A test page is no payment's print.
    assert!(r.engine.last_print(&p.id).unwrap().is_none());
}
