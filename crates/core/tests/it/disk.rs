//! L2: a full disk. The journal lives on a small ext4 file system of its own
//! (a loop-mounted image: CI runs as root), which the test fills.

use crate::util::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use till_core::{CustomerStep, Engine, Payment, PaymentState, ProviderKind};

const MIB: u64 = 1 << 20;

/// A small ext4 file system in an image file, loop-mounted on a temporary
/// directory. Unmounted on drop, also when the test fails, so no mount is left
/// behind.
struct LoopMount {
    mount_point: tempfile::TempDir,
    _image_dir: tempfile::TempDir,
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl LoopMount {
    /// A `mib` MiB file system. Panics, with what to do, when it cannot be made: a
    /// disk-full test that quietly skipped would prove nothing.
    fn new(mib: u64) -> LoopMount {
        let image_dir = tempfile::tempdir().unwrap();
        let image = image_dir.path().join("journal-fs.img");
        let image_s = image.to_str().unwrap();
        let mount_point = tempfile::tempdir().unwrap();
        let made = run("truncate", &["-s", &format!("{}", mib * MIB), image_s])
            // -m 0: no blocks reserved for root (the test runs as root, and reserved
            // blocks would let it write past what `df` calls free).
            .and_then(|_| run("mkfs.ext4", &["-q", "-F", "-m", "0", image_s]))
            .and_then(|_| {
                run(
                    "mount",
                    &["-o", "loop", image_s, mount_point.path().to_str().unwrap()],
                )
            });
        if let Err(e) = made {
            panic!(
                "this test needs a small loop-mounted file system and could not make one \
                 ({e}). It must run as root with loop devices and e2fsprogs \
                 (scripts/setup.sh test installs them)."
            );
        }
        LoopMount {
            mount_point,
            _image_dir: image_dir,
        }
    }

    fn path(&self) -> &Path {
        self.mount_point.path()
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        let at = self.mount_point.path().to_str().unwrap().to_owned();
        // A failing test may still hold files open on it (background tasks of an engine
        // not shut down): then detach it lazily, so it is gone from the mount table now
        // and released (with its loop device) when the last file closes.
        if run("umount", &[&at]).is_err() {
            if let Err(e) = run("umount", &["-l", &at]) {
                eprintln!("could not unmount the test file system: {e}");
            }
        }
    }
}

/// A file taking the file system's free space, but `leave` bytes.
struct Filler {
    path: PathBuf,
}

impl Filler {
    fn leaving(dir: &Path, leave: u64) -> Filler {
        let path = dir.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        // Big blocks, then small ones, until the file system says no more.
        for size in [MIB as usize, 4096, 512] {
            let block = vec![0xA5u8; size];
            loop {
                match f.write_all(&block) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(28 /* ENOSPC */) => break,
                    Err(e) => panic!("filling the test file system: {e}"),
                }
            }
        }
        let _ = f.sync_all();
        let len = f.metadata().unwrap().len();
        if leave > 0 {
            f.set_len(len.saturating_sub(leave)).unwrap();
            f.sync_all().unwrap();
        }
        Filler { path }
    }
}

impl Drop for Filler {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn journal_path(r: &Rig) -> PathBuf {
    r.home.path().join("journal.db")
}

/// A connection of the test's own to the engine's journal.
fn db(r: &Rig) -> rusqlite::Connection {
    rusqlite::Connection::open(journal_path(r)).unwrap()
}

/// What a payment's writes add to: payments, events, outbox records, the highest
/// outbox sequence and the invoice counter.
fn counts(r: &Rig) -> [i64; 5] {
    let c = db(r);
    let one = |q: &str| c.query_row(q, [], |row| row.get::<_, i64>(0)).unwrap();
    [
        one("SELECT COUNT(*) FROM payments"),
        one("SELECT COUNT(*) FROM payment_events"),
        one("SELECT COUNT(*) FROM outbox"),
        one("SELECT COALESCE(MAX(sequence), 0) FROM outbox"),
        one("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'invoice_counter'"),
    ]
}

/// The journal holds together: SQLite's own check, every payment has its history
/// and is in the state its last event says, the outbox has no gap, and every
/// settlement is in it.
fn assert_whole(r: &Rig) {
    let c = db(r);
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let one = |q: &str| c.query_row(q, [], |row| row.get::<_, i64>(0)).unwrap();
    assert_eq!(
        one("SELECT COUNT(*) FROM payments p WHERE NOT EXISTS
               (SELECT 1 FROM payment_events e WHERE e.payment_id = p.id AND e.from_state IS NULL AND e.to_state = 'created')"),
        0,
        "a payment without its first event"
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM payments p WHERE p.state <>
               (SELECT e.to_state FROM payment_events e WHERE e.payment_id = p.id ORDER BY e.seq DESC LIMIT 1)"),
        0,
        "a payment whose state is not its last event's"
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM payment_events e WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = e.payment_id)"),
        0,
        "an event without its payment"
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM outbox"),
        one("SELECT COALESCE(MAX(sequence), 0) FROM outbox"),
        "a gap in the outbox"
    );
    assert_eq!(
        one(
            "SELECT COUNT(*) FROM payments WHERE state = 'settled' AND id NOT IN
               (SELECT payment_id FROM outbox WHERE event_type = 'payment.settled')"
        ),
        0,
        "a settlement missing from the outbox"
    );
}

async fn demo_settles(engine: &Engine, amount: &str) -> Payment {
    let c = engine
        .charge(ProviderKind::Demo, bdt(amount), "cashier-1")
        .await
        .unwrap_or_else(|e| panic!("a demo charge of {amount}: {e}"));
    let p = engine
        .wait_final(&c.payment.id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    p
}

/// A full disk refuses a charge with the `disk_full` code, both when the check before
/// a payment sees too little room and when SQLite itself finds the disk full in the
/// payment's transaction (nothing half-written then either); payments made before are
/// intact; once space is freed the same engine takes payments again.
#[tokio::test]
async fn a_full_disk_refuses_a_charge_and_leaves_the_journal_whole() {
    let fs = LoopMount::new(24);
    let home = tempfile::tempdir_in(fs.path()).unwrap();
    let r = rig_in(
        sandbox_config(),
        &[("TILL__STORAGE__MIN_FREE_MB", "4")],
        home,
    )
    .await;

    // Payments made before: a KHQR the customer paid at the sandbox, and a demo one.
    let c = r
        .engine
        .charge(ProviderKind::Bakong, khr("40000"), "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = &c.step else {
        panic!("expected a KHQR, got {:?}", c.step)
    };
    r.bakong_pay(khqr, None).await;
    let khqr_paid = r
        .wait_state(
            &c.payment.id,
            PaymentState::Settled,
            Duration::from_secs(10),
        )
        .await;
    let demo_paid = demo_settles(&r.engine, "10.00").await;
    assert_whole(&r);

    // 1. Less free than storage.min_free_mb: refused before anything is written.
    let filler = Filler::leaving(fs.path(), MIB);
    let before = counts(&r);
    for provider in [ProviderKind::Demo, ProviderKind::Bakong] {
        let amount = if provider == ProviderKind::Demo {
            bdt("20.00")
        } else {
            khr("8000")
        };
        let err = r
            .engine
            .charge(provider, amount, "cashier-1")
            .await
            .err()
            .unwrap_or_else(|| panic!("a {provider} charge on a full disk was taken"));
        assert_eq!(
            err.reason().map(|r| r.code),
            Some(till_core::reason::ReasonCode::DiskFull),
            "{provider}: {err}"
        );
        assert!(err.to_string().contains("disk"), "{err}");
    }
    assert_eq!(counts(&r), before, "a refused charge wrote something");
    assert_whole(&r);

    // Space freed: the same engine takes payments again.
    drop(filler);
    demo_settles(&r.engine, "30.00").await;

    // 2. The check turned off and the disk full to the last block: SQLite's own
    // SQLITE_FULL in the payment's transaction is rolled back and told the same way.
    r.engine.shutdown().await;
    let engine = r
        .open_engine_with(true, &[("TILL__STORAGE__MIN_FREE_MB", "0")])
        .await
        .unwrap();
    // An empty write-ahead log: the next write needs blocks the disk no longer has.
    db(&r)
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let filler = Filler::leaving(fs.path(), 0);
    let before = counts(&r);
    let err = engine
        .charge(ProviderKind::Demo, bdt("40.00"), "cashier-1")
        .await
        .expect_err("a charge on a disk full to the last block was taken");
    assert_eq!(
        err.reason().map(|r| r.code),
        Some(till_core::reason::ReasonCode::DiskFull),
        "{err}"
    );
    assert_eq!(counts(&r), before, "a failed transaction left something");
    assert_whole(&r);
    assert_eq!(engine.payment(&khqr_paid.id).unwrap(), khqr_paid);
    assert_eq!(engine.payment(&demo_paid.id).unwrap(), demo_paid);

    // Space freed: payments work again without a restart, and the outbox goes on
    // without a gap.
    drop(filler);
    let after = demo_settles(&engine, "50.00").await;
    assert_whole(&r);
    let [payments, _, outbox, ..] = counts(&r);
    assert_eq!((payments, outbox), (before[0] + 1, before[2] + 1));
    assert_eq!(
        engine.payment(&after.id).unwrap().state,
        PaymentState::Settled
    );
    engine.shutdown().await;
    drop(engine);
    drop(r);
}
