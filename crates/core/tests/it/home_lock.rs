//! Two processes on one data directory (review finding M6): only one engine at a time runs
//! the background work (pollers, sweeper, recovery); a second is refused and told who holds
//! the directory, and so cannot "recover" the first one's payment in flight.

use crate::util::*;
use std::time::Duration;
use till_core::provider::CustomerStep;
use till_core::{EngineError, PaymentState, ProviderKind};

#[tokio::test]
async fn a_second_engine_cannot_recover_the_first_ones_payment_in_flight() {
    let r = rig().await;
    // The first process (the app, say) is creating a bKash payment: the payment is in the
    // journal, bKash's answer is on its way (held at the sandbox).
    r.hold("bkash.create", false).await;
    let first = r.engine.clone();
    let charge = tokio::spawn(async move {
        first
            .charge(ProviderKind::Bkash, bdt("40.00"), "cashier-1")
            .await
    });
    r.wait_held("bkash.create").await;
    let id = r.engine.list(&Default::default()).unwrap()[0].id.clone();
    assert_eq!(r.engine.payment(&id).unwrap().state, PaymentState::Created);

    // A second process with background work (`till recover`, `till charge`) is refused,
    // naming the holder. (Were it opened, its start-up recovery would take the payment for
    // one a crashed run left behind, and mark it failed while bKash is creating it.)
    match r.open_engine(true).await {
        Err(e @ EngineError::Busy(_)) => {
            let text = e.to_string();
            assert!(
                text.contains(&format!("pid {}", std::process::id())),
                "names the holder: {text}"
            );
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(second) => {
            second.shutdown().await; // its recovery has run by now
            panic!(
                "a second engine with background work was opened; the first one's payment \
                 is now {:?}",
                r.engine.payment(&id).unwrap().state
            );
        }
    }

    // A reader (`till list`, `status`, `report`) works beside it.
    let reader = r
        .open_engine(false)
        .await
        .expect("a reader opens beside the holder");
    assert_eq!(reader.payment(&id).unwrap().state, PaymentState::Created);

    // bKash answers; the customer pays; the holder settles it.
    assert_eq!(r.release("bkash.create").await, 1);
    let c = charge.await.unwrap().expect("the charge goes on");
    let CustomerStep::Redirect { .. } = c.step else {
        panic!("bKash opens a page: {:?}", c.step)
    };
    let pid = c.payment.refs.lookup.clone().unwrap();
    let back = r.bkash_customer(&pid, "01770618575", "pay").await;
    r.engine.callback(&back).await.unwrap();
    let p = r
        .engine
        .wait_final(&id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::Settled);

    // Once the holder has shut down, the next one takes over.
    r.engine.shutdown().await;
    let next = r
        .open_engine(true)
        .await
        .expect("the lock is free after shutdown");
    next.shutdown().await;
}
