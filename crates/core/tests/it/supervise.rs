//! The background tasks are supervised (review finding L3): a task that panics is logged,
//! recorded for the manager's screen, announced, and restarted — the payments it watches
//! still end.

use crate::util::*;
use std::time::Duration;
use till_core::{CustomerStep, EngineEvent, PaymentState, ProviderKind};

#[tokio::test]
async fn a_panicking_poller_or_sweeper_is_restarted_and_its_payments_still_end() {
    let r = rig().await;
    let mut events = r.engine.subscribe();

    // The poller panics while a KHQR waits to be paid.
    let c = r
        .engine
        .charge(ProviderKind::Bakong, khr("9000"), "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    assert!(r.engine.crash_task("poller"), "the poller runs");
    // The announcement comes from the supervisor once the panic is caught.
    let restart = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(EngineEvent::TaskRestarted { restart }) = events.recv().await {
                return restart;
            }
        }
    })
    .await
    .expect("the poller's panic is announced");
    assert_eq!(restart.task, "poller");
    assert_eq!(restart.restarts, 1);
    assert!(restart.last_panic.contains("poller"), "{restart:?}");
    r.bakong_pay(&khqr, None).await;
    let p = r
        .engine
        .wait_final(&c.payment.id, Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(
        p.state,
        PaymentState::Settled,
        "the restarted poller saw it"
    );

    // The sweeper panics while a demo payment waits to settle itself.
    let d = r
        .engine
        .charge(ProviderKind::Demo, bdt("12.00"), "cashier-1")
        .await
        .unwrap();
    assert!(r.engine.crash_task("sweeper"));
    let p = r
        .engine
        .wait_final(&d.payment.id, Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(
        p.state,
        PaymentState::Settled,
        "the restarted sweeper settled it"
    );

    // What the manager's screen reads.
    let mut restarts = r.engine.task_restarts();
    restarts.sort_by_key(|t| t.task);
    let names: Vec<_> = restarts.iter().map(|t| (t.task, t.restarts)).collect();
    assert_eq!(names, [("poller", 1), ("sweeper", 1)]);
    assert!(!r.engine.crash_task("no-such-task"));
    r.engine.shutdown().await;
}
