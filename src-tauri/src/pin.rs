//! The manager's PIN: set on first use, kept as an Argon2id PHC string in
//! `<home>/manager-pin` (never the PIN, never a plain hash), checked with a
//! lockout after repeated wrong tries, and unlocking for a limited time.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use till_core::Clock;

/// Wrong tries before the PIN pad locks.
pub const MAX_TRIES: u32 = 5;
/// How long it stays locked.
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// An unlocked manager area locks again after this long without use.
pub const SESSION: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("The PIN must be 4 to 8 digits.")]
    Shape,
    #[error("A manager PIN is already set.")]
    AlreadySet,
    #[error("No manager PIN is set yet.")]
    NotSet,
    #[error("Wrong PIN. {0} tries left.")]
    Wrong(u32),
    #[error("Too many wrong PINs. Try again in {0} seconds.")]
    Locked(u64),
    #[error("The manager area is locked. Enter the PIN.")]
    SessionLocked,
    #[error("Cannot store the PIN: {0}")]
    Store(String),
}

struct Attempts {
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
    session_until: Option<DateTime<Utc>>,
}

pub struct ManagerPin {
    path: PathBuf,
    clock: Clock,
    attempts: Mutex<Attempts>,
}

fn span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).expect("a short duration")
}

fn check_shape(pin: &str) -> Result<(), PinError> {
    if (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::Shape)
    }
}

impl ManagerPin {
    pub fn new(home: &Path) -> Self {
        Self::with_clock(home, Clock::system())
    }

    /// With a clock tests can move.
    pub fn with_clock(home: &Path, clock: Clock) -> Self {
        ManagerPin {
            path: home.join("manager-pin"),
            clock,
            attempts: Mutex::new(Attempts {
                failures: 0,
                locked_until: None,
                session_until: None,
            }),
        }
    }

    pub fn is_set(&self) -> bool {
        self.stored().is_some()
    }

    fn stored(&self) -> Option<String> {
        std::fs::read_to_string(&self.path)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| s.starts_with("$argon2"))
    }

    /// First run: choose the PIN (and open the manager area).
    pub fn set_first(&self, pin: &str) -> Result<(), PinError> {
        check_shape(pin)?;
        if self.is_set() {
            return Err(PinError::AlreadySet);
        }
        self.write(pin)?;
        self.open_session();
        Ok(())
    }

    /// Change the PIN from inside an open manager area.
    pub fn change(&self, old: &str, new: &str) -> Result<(), PinError> {
        check_shape(new)?;
        self.unlock(old)?;
        self.write(new)
    }

    fn write(&self, pin: &str) -> Result<(), PinError> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map_err(|e| PinError::Store(e.to_string()))?
            .to_string();
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, format!("{phc}\n"))
            .and_then(|_| {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
                }
                std::fs::rename(&tmp, &self.path)
            })
            .map_err(|e| PinError::Store(e.to_string()))
    }

    /// Checks the PIN; right opens the manager area for [`SESSION`].
    pub fn unlock(&self, pin: &str) -> Result<(), PinError> {
        let now = self.clock.now();
        {
            let a = self.attempts.lock().expect("pin lock");
            if let Some(until) = a.locked_until.filter(|u| *u > now) {
                return Err(PinError::Locked((until - now).num_seconds().max(1) as u64));
            }
        }
        let stored = self.stored().ok_or(PinError::NotSet)?;
        let ok = PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(pin.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        let mut a = self.attempts.lock().expect("pin lock");
        if ok {
            a.failures = 0;
            a.locked_until = None;
            a.session_until = Some(now + span(SESSION));
            Ok(())
        } else {
            a.failures += 1;
            if a.failures >= MAX_TRIES {
                a.failures = 0;
                a.locked_until = Some(now + span(LOCKOUT));
                Err(PinError::Locked(LOCKOUT.as_secs()))
            } else {
                Err(PinError::Wrong(MAX_TRIES - a.failures))
            }
        }
    }

    fn open_session(&self) {
        self.attempts.lock().expect("pin lock").session_until = Some(self.clock.now() + span(SESSION));
    }

    /// Every manager command asks this first; use keeps the session open.
    pub fn require(&self) -> Result<(), PinError> {
        let now = self.clock.now();
        let mut a = self.attempts.lock().expect("pin lock");
        match a.session_until {
            Some(u) if u > now => {
                a.session_until = Some(now + span(SESSION));
                Ok(())
            }
            _ => Err(PinError::SessionLocked),
        }
    }

    pub fn lock(&self) {
        self.attempts.lock().expect("pin lock").session_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_is_hashed_checked_and_locks_out() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        assert!(matches!(pin.set_first("12a4"), Err(PinError::Shape)));
        assert!(matches!(pin.set_first("123"), Err(PinError::Shape)));
        pin.set_first("2468").unwrap();
        let stored = std::fs::read_to_string(dir.path().join("manager-pin")).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("2468"));
        assert!(matches!(pin.set_first("1111"), Err(PinError::AlreadySet)));
        pin.require().unwrap();
        pin.lock();
        assert!(matches!(pin.require(), Err(PinError::SessionLocked)));
        pin.unlock("2468").unwrap();
        pin.require().unwrap();
        pin.lock();
        for left in (1..MAX_TRIES).rev() {
            match pin.unlock("0000") {
                Err(PinError::Wrong(n)) => assert_eq!(n, left),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(pin.unlock("0000"), Err(PinError::Locked(_))));
        // Even the right PIN waits out the lockout.
        assert!(matches!(pin.unlock("2468"), Err(PinError::Locked(_))));
        assert!(matches!(pin.require(), Err(PinError::SessionLocked)));
    }

    #[test]
    fn change_needs_the_old_pin() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        pin.set_first("1357").unwrap();
        assert!(matches!(
            pin.change("0000", "2222"),
            Err(PinError::Wrong(_))
        ));
        pin.change("1357", "24680").unwrap();
        pin.lock();
        pin.unlock("24680").unwrap();
    }

    // ------------------------------------------------ issue 14: H4, M4

    const RIGHT: &str = "246813";
    const WRONG: &str = "000000";

    /// M4: new PINs are exactly six digits.
    #[test]
    fn new_pins_have_six_digits() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        for short_or_long in ["2468", "24681", "2468135", "24681357"] {
            assert!(
                pin.set_first(short_or_long).is_err(),
                "a {}-digit PIN was accepted",
                short_or_long.len()
            );
        }
        pin.set_first(RIGHT).unwrap();
    }

    /// M4: the lockout is on disk: a restart (a new `ManagerPin`, as a new process or the
    /// app started again) does not give the guesser fresh tries.
    #[test]
    fn the_lockout_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        pin.set_first(RIGHT).unwrap();
        pin.lock();
        let mut last = None;
        for _ in 0..MAX_TRIES {
            last = Some(pin.unlock(WRONG));
        }
        assert!(matches!(last, Some(Err(PinError::Locked(_)))), "{last:?}");
        drop(pin);
        let restarted = ManagerPin::new(dir.path());
        let after = restarted.unlock(RIGHT);
        assert!(
            matches!(after, Err(PinError::Locked(_))),
            "a restart reset the lockout: the right PIN was taken at once ({after:?})"
        );
    }

    fn locked_for(r: Result<impl std::fmt::Debug, PinError>) -> u64 {
        match r {
            Err(PinError::Locked(s)) => s,
            other => panic!("expected a lockout, got {other:?}"),
        }
    }

    /// M4: every wrong PIN after the free ones locks for longer than the one before (up to a
    /// cap): waiting out a lockout does not bring back the free tries.
    #[test]
    fn the_lockout_grows_with_each_further_failure() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::system();
        let pin = ManagerPin::with_clock(dir.path(), clock.clone());
        pin.set_first(RIGHT).unwrap();
        pin.lock();
        for _ in 1..MAX_TRIES {
            assert!(matches!(pin.unlock(WRONG), Err(PinError::Wrong(_))));
        }
        let mut wait = locked_for(pin.unlock(WRONG));
        for _ in 0..3 {
            clock.advance(Duration::from_secs(wait + 1));
            let next = locked_for(pin.unlock(WRONG));
            assert!(
                next >= 2 * wait - 1,
                "after a lockout of {wait} s the next wrong PIN locks for {next} s"
            );
            wait = next;
        }
    }

    /// M4: an open manager area closes a fixed time after the PIN was given, however busy it
    /// is kept (the window's refreshes on payment events call manager commands).
    #[test]
    fn a_session_has_an_absolute_limit() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::system();
        let pin = ManagerPin::with_clock(dir.path(), clock.clone());
        pin.set_first(RIGHT).unwrap();
        pin.lock();
        pin.unlock(RIGHT).unwrap();
        let mut closed_after = None;
        for minute in 1..=120 {
            clock.advance(Duration::from_secs(60));
            if pin.require().is_err() {
                closed_after = Some(minute);
                break;
            }
        }
        let closed_after = closed_after.expect("used every minute, the session never closed");
        assert!(closed_after <= 15, "closed after {closed_after} minutes");
    }

    /// H4: deleting `manager-pin` does not let anyone choose a new PIN.
    #[test]
    fn a_deleted_pin_file_does_not_let_anyone_choose_a_new_pin() {
        let dir = tempfile::tempdir().unwrap();
        ManagerPin::new(dir.path()).set_first(RIGHT).unwrap();
        std::fs::remove_file(dir.path().join("manager-pin")).unwrap();
        let pin = ManagerPin::new(dir.path());
        assert!(
            pin.set_first("999999").is_err(),
            "the PIN file was deleted and a stranger chose a new PIN"
        );
    }

    /// H4: a damaged `manager-pin` is not "no PIN set".
    #[test]
    fn a_corrupt_pin_file_is_not_no_pin() {
        let dir = tempfile::tempdir().unwrap();
        ManagerPin::new(dir.path()).set_first(RIGHT).unwrap();
        std::fs::write(dir.path().join("manager-pin"), "$argon2id$v=19$garbage\n").unwrap();
        let pin = ManagerPin::new(dir.path());
        assert!(
            pin.set_first("999999").is_err(),
            "the PIN file was damaged and a stranger chose a new PIN"
        );
        std::fs::write(dir.path().join("manager-pin"), "not a hash at all").unwrap();
        let pin = ManagerPin::new(dir.path());
        assert!(pin.set_first("999999").is_err());
    }
}
