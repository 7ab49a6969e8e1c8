//! The manager's PIN, one for the window and the command line: set on first use, checked
//! with a lockout that survives restarts, and opening a [`Session`] that names who acts.
//!
//! Files in the data directory (0600, the PIN's and the code's written atomically):
//!
//! - `manager-pin`: the PIN as an Argon2id PHC string (never the PIN, never a plain hash).
//! - `manager-pin.recovery`: the recovery code as an Argon2id PHC string. The code itself
//!   (100 random bits from the OS) is shown once, when the PIN is first chosen and after each
//!   reset, and only it can choose a new PIN when the PIN is forgotten or its file is lost or
//!   damaged. Its file also says that a PIN was set here: without it, a missing
//!   `manager-pin` would look like a new terminal and let anyone choose a PIN.
//! - `manager-pin.tries`: wrong tries and the lockout, on disk because an in-memory count is
//!   reset by restarting the app, and every `till` command is a new process: five free tries,
//!   then each wrong one locks for twice as long as the one before ([`FIRST_LOCKOUT`] up to
//!   [`MAX_LOCKOUT`]) until the right PIN is given. A try is counted before it is checked, so
//!   killing the process during the check does not save it, and the count is read and
//!   written under a file lock, so parallel processes each spend one. A missing or damaged
//!   count on a terminal with a recovery code starts with no free tries left.
//!
//! What this does not defend against: someone who can write the data directory (the shop's
//! own account) can replace these files, as they can rewrite the journal; and the lockout
//! runs on the system clock. The PIN keeps the counter staff and the command line out.
//!
//! A PIN set before PINs had six digits still verifies, but it only opens a session that can
//! change it (window and `till pin change`); a terminal whose PIN predates recovery codes
//! gets one the next time the PIN is given in the window or changed.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use till_core::Clock;

/// New PINs are exactly this many digits.
pub const PIN_LEN: usize = 6;
/// Wrong tries before the first lockout.
pub const FREE_TRIES: u32 = 5;
/// The lockout after the last free try; each further wrong try doubles it.
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
/// The longest lockout.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(60 * 60);
/// An open manager area locks after this long without use.
pub const IDLE: Duration = Duration::from_secs(5 * 60);
/// ... and this long after the PIN was given, however busy it is kept (the window refreshes
/// itself on payment events, which would otherwise keep it open forever).
pub const SESSION_LIMIT: Duration = Duration::from_secs(15 * 60);

const PIN_FILE: &str = "manager-pin";
const RECOVERY_FILE: &str = "manager-pin.recovery";
const TRIES_FILE: &str = "manager-pin.tries";

/// Why the PIN file cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    Missing,
    Damaged,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Damage::Missing => "missing",
            Damage::Damaged => "damaged",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("a new manager PIN must be exactly {PIN_LEN} digits")]
    Shape,
    #[error("a manager PIN is already set")]
    AlreadySet,
    #[error("no manager PIN is set yet: choose one in the manager window or with `till pin set`")]
    NotSet,
    #[error(
        "the manager PIN file is {0}: choose a new PIN with the recovery code (the manager \
         window, or `till pin reset`)"
    )]
    NeedsRecovery(Damage),
    #[error(
        "the manager PIN file is {0} and this terminal has no recovery code: restore \
         `manager-pin` from a backup"
    )]
    Unrecoverable(Damage),
    #[error("this terminal has no recovery code yet: it gets one when the PIN is changed")]
    NoRecoveryCode,
    #[error("Wrong PIN. {0} tries left.")]
    Wrong(u32),
    #[error("Wrong recovery code. {0} tries left.")]
    WrongRecoveryCode(u32),
    #[error("Too many wrong PINs. Try again in {0} seconds.")]
    Locked(u64),
    #[error("The manager area is locked. Enter the PIN.")]
    SessionLocked,
    #[error("The manager session has ended. Enter the PIN again.")]
    SessionExpired,
    #[error(
        "this manager PIN has fewer than {PIN_LEN} digits: change it first (the manager window, \
         or `till pin change`)"
    )]
    ChangeRequired,
    #[error("cannot store the manager PIN in {}: {source}", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot hash the manager PIN: {0}")]
    Hash(argon2::password_hash::Error),
}

impl PinError {
    /// A stable name for the window's strings (`ui/js/i18n.js`).
    pub fn code(&self) -> &'static str {
        match self {
            PinError::Shape => "pin_shape",
            PinError::AlreadySet => "pin_already_set",
            PinError::NotSet => "pin_not_set",
            PinError::NeedsRecovery(_) => "pin_needs_recovery",
            PinError::Unrecoverable(_) => "pin_unrecoverable",
            PinError::NoRecoveryCode => "pin_no_recovery_code",
            PinError::Wrong(_) => "pin_wrong",
            PinError::WrongRecoveryCode(_) => "pin_wrong_recovery",
            PinError::Locked(_) => "pin_locked",
            PinError::SessionLocked => "pin_session_locked",
            PinError::SessionExpired => "pin_session_expired",
            PinError::ChangeRequired => "pin_change_required",
            PinError::Store { .. } | PinError::Hash(_) => "pin_store",
        }
    }
}

/// Where the manager acts from; it names the actor in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Window,
    Cli,
}

/// Proof that the manager PIN was given. Only this module makes one, so who acted always
/// comes from a PIN check, never from a name someone typed.
#[derive(Clone, Debug)]
pub struct Session {
    channel: Channel,
}

impl Session {
    /// The audit log's actor.
    pub fn actor(&self) -> &'static str {
        match self.channel {
            Channel::Window => "manager",
            Channel::Cli => "manager@cli",
        }
    }
}

/// A recovery code, shown once. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// 20 characters of Crockford base32 (100 bits), in groups of four.
    fn generate() -> RecoveryCode {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut bytes = [0u8; 20];
        OsRng.fill_bytes(&mut bytes);
        let chars: Vec<char> = bytes
            .iter()
            .map(|b| ALPHABET[(b & 31) as usize] as char)
            .collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        RecoveryCode(groups.join("-"))
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// What is hashed: upper case, no separators, the letters people misread as digits read
    /// as those digits (Crockford).
    fn normalize(typed: &str) -> String {
        typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t'))
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect()
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(***)")
    }
}

/// What the PIN screen needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinState {
    NotSet,
    Set,
    NeedsRecovery,
}

#[derive(Clone, Debug, Serialize)]
pub struct PinStatus {
    pub state: PinState,
    /// Why the PIN file cannot be used (with `needs_recovery`).
    pub damage: Option<Damage>,
    /// A lockout in force, in seconds (0: none).
    pub locked_for_s: u64,
    pub has_recovery_code: bool,
}

/// A right PIN in the window.
#[derive(Debug)]
pub struct Unlocked {
    /// The PIN is shorter than [`PIN_LEN`]: the session can only change it.
    pub must_change: bool,
    /// Made now for a terminal that had none: show it once.
    pub recovery_code: Option<RecoveryCode>,
}

enum Stored {
    Valid(String),
    Absent(Damage),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Tries {
    failures: u32,
    locked_until_ms: Option<i64>,
}

struct WindowSession {
    opened: DateTime<Utc>,
    last_used: DateTime<Utc>,
    must_change: bool,
}

pub struct ManagerPin {
    home: PathBuf,
    clock: Clock,
    window: Mutex<Option<WindowSession>>,
}

fn span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).expect("a short duration")
}

fn check_shape(pin: &str) -> Result<(), PinError> {
    if pin.len() == PIN_LEN && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::Shape)
    }
}

/// The lockout after `failures` wrong tries in a row.
fn lockout_after(failures: u32) -> Option<Duration> {
    let beyond = failures.checked_sub(FREE_TRIES)?;
    let doubled = FIRST_LOCKOUT.saturating_mul(1u32 << beyond.min(20));
    Some(doubled.min(MAX_LOCKOUT))
}

fn hash(secret: &str) -> Result<String, PinError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(PinError::Hash)?
        .to_string())
}

fn matches(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn parse_phc(text: &str) -> Option<String> {
    let text = text.trim();
    let h = PasswordHash::new(text).ok()?;
    (h.algorithm.as_str().starts_with("argon2") && h.hash.is_some()).then(|| text.to_owned())
}

#[cfg(unix)]
fn private(o: &mut OpenOptions) -> &mut OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    o.mode(0o600)
}

#[cfg(not(unix))]
fn private(o: &mut OpenOptions) -> &mut OpenOptions {
    o
}

/// The tries file, locked for as long as this lives.
struct TriesFile {
    file: File,
}

impl ManagerPin {
    pub fn new(home: &Path) -> Self {
        Self::with_clock(home, Clock::system())
    }

    /// With a clock tests can move.
    pub fn with_clock(home: &Path, clock: Clock) -> Self {
        ManagerPin {
            home: home.to_owned(),
            clock,
            window: Mutex::new(None),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }

    fn store_err(&self, name: &str) -> impl FnOnce(std::io::Error) -> PinError {
        let path = self.path(name);
        move |source| PinError::Store { path, source }
    }

    fn stored(&self) -> Stored {
        match std::fs::read_to_string(self.path(PIN_FILE)) {
            Ok(text) => match parse_phc(&text) {
                Some(phc) => Stored::Valid(phc),
                None => Stored::Absent(Damage::Damaged),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Stored::Absent(Damage::Missing),
            Err(_) => Stored::Absent(Damage::Damaged),
        }
    }

    /// The recovery code's hash; `None` when there is no file. A damaged one is kept as
    /// `Some("")`: it still says a PIN was set here, and matches no code.
    fn recovery(&self) -> Option<String> {
        match std::fs::read_to_string(self.path(RECOVERY_FILE)) {
            Ok(text) => Some(parse_phc(&text).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(_) => Some(String::new()),
        }
    }

    /// Writes `text` to `name` atomically (temporary file, fsync, rename), 0600.
    fn write_file(&self, name: &str, text: &str) -> Result<(), PinError> {
        std::fs::create_dir_all(&self.home).map_err(self.store_err(name))?;
        let path = self.path(name);
        let tmp = self
            .home
            .join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        (|| -> std::io::Result<()> {
            let mut f = private(OpenOptions::new().write(true).create_new(true)).open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            if let Ok(dir) = File::open(&self.home) {
                let _ = dir.sync_all();
            }
            Ok(())
        })()
        .map_err(self.store_err(name))
    }

    fn write_pin(&self, pin: &str) -> Result<(), PinError> {
        self.write_file(PIN_FILE, &format!("{}\n", hash(pin)?))
    }

    fn new_recovery_code(&self) -> Result<RecoveryCode, PinError> {
        let code = RecoveryCode::generate();
        let phc = hash(&RecoveryCode::normalize(code.reveal()))?;
        self.write_file(RECOVERY_FILE, &format!("{phc}\n"))?;
        Ok(code)
    }

    fn tries(&self) -> Result<TriesFile, PinError> {
        std::fs::create_dir_all(&self.home).map_err(self.store_err(TRIES_FILE))?;
        let file = private(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(self.path(TRIES_FILE))
        .map_err(self.store_err(TRIES_FILE))?;
        file.lock().map_err(self.store_err(TRIES_FILE))?;
        Ok(TriesFile { file })
    }

    fn read_tries(&self, t: &mut TriesFile) -> Tries {
        let mut text = String::new();
        let read =
            t.file.seek(SeekFrom::Start(0)).is_ok() && t.file.read_to_string(&mut text).is_ok();
        match serde_json::from_str(&text) {
            Ok(tries) if read => tries,
            // Lost or damaged on a terminal that has a recovery code (so it had a tries
            // file): deleting it must not bring back the free tries.
            _ if self.recovery().is_some() => Tries {
                failures: FREE_TRIES,
                locked_until_ms: None,
            },
            _ => Tries::default(),
        }
    }

    fn write_tries(&self, t: &mut TriesFile, tries: &Tries) -> Result<(), PinError> {
        let text = serde_json::to_string(tries).expect("tries serialize");
        (|| -> std::io::Result<()> {
            t.file.set_len(0)?;
            t.file.seek(SeekFrom::Start(0))?;
            t.file.write_all(text.as_bytes())?;
            t.file.sync_data()
        })()
        .map_err(self.store_err(TRIES_FILE))
    }

    fn locked_for(&self, tries: &Tries) -> u64 {
        let now = self.clock.now().timestamp_millis();
        match tries.locked_until_ms {
            Some(until) if until > now => ((until - now + 999) / 1000) as u64,
            _ => 0,
        }
    }

    /// One counted try: refused while locked out; counted before `check` runs; a right
    /// answer clears the count. `wrong` names a wrong answer with the free tries left.
    fn attempt(
        &self,
        check: impl FnOnce() -> bool,
        wrong: fn(u32) -> PinError,
    ) -> Result<(), PinError> {
        let mut file = self.tries()?;
        let mut tries = self.read_tries(&mut file);
        let locked = self.locked_for(&tries);
        if locked > 0 {
            return Err(PinError::Locked(locked));
        }
        let now = self.clock.now();
        tries.failures = tries.failures.saturating_add(1);
        let lockout = lockout_after(tries.failures);
        tries.locked_until_ms = lockout.map(|d| (now + span(d)).timestamp_millis());
        self.write_tries(&mut file, &tries)?;
        if check() {
            self.write_tries(&mut file, &Tries::default())?;
            return Ok(());
        }
        Err(match lockout {
            Some(d) => PinError::Locked(d.as_secs()),
            None => wrong(FREE_TRIES - tries.failures),
        })
    }

    pub fn status(&self) -> PinStatus {
        let recovery = self.recovery();
        let (state, damage) = match (self.stored(), &recovery) {
            (Stored::Valid(_), _) => (PinState::Set, None),
            (Stored::Absent(Damage::Missing), None) => (PinState::NotSet, None),
            (Stored::Absent(d), _) => (PinState::NeedsRecovery, Some(d)),
        };
        let locked_for_s = self
            .tries()
            .map(|mut f| {
                let t = self.read_tries(&mut f);
                self.locked_for(&t)
            })
            .unwrap_or(0);
        PinStatus {
            state,
            damage,
            locked_for_s,
            has_recovery_code: recovery.is_some(),
        }
    }

    /// The stored PIN's hash, or why there is none to check against.
    fn valid(&self) -> Result<String, PinError> {
        match (self.stored(), self.recovery()) {
            (Stored::Valid(phc), _) => Ok(phc),
            (Stored::Absent(Damage::Missing), None) => Err(PinError::NotSet),
            (Stored::Absent(d), Some(_)) => Err(PinError::NeedsRecovery(d)),
            (Stored::Absent(d), None) => Err(PinError::Unrecoverable(d)),
        }
    }

    /// First use: choose the PIN. Refused once a PIN was ever set here (its file lost or
    /// damaged included: that needs [`ManagerPin::reset`]). Returns the recovery code, to be
    /// shown once; opens the window's session for `channel` = window.
    pub fn set_first(&self, pin: &str) -> Result<RecoveryCode, PinError> {
        self.set_first_from(pin, Channel::Window)
    }

    pub fn set_first_from(&self, pin: &str, channel: Channel) -> Result<RecoveryCode, PinError> {
        self.may_set_first()?;
        check_shape(pin)?;
        self.write_pin(pin)?;
        let code = self.new_recovery_code()?;
        let mut file = self.tries()?;
        self.write_tries(&mut file, &Tries::default())?;
        if channel == Channel::Window {
            self.open_window(false);
        }
        Ok(code)
    }

    /// Whether a first PIN may be chosen: only where none was ever set.
    pub fn may_set_first(&self) -> Result<(), PinError> {
        match self.valid() {
            Ok(_) => Err(PinError::AlreadySet),
            Err(PinError::NotSet) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Checks the PIN (counted, see the module's doc).
    fn verify(&self, pin: &str) -> Result<(), PinError> {
        let phc = self.valid()?;
        self.attempt(|| matches(pin, &phc), PinError::Wrong)
    }

    /// The command line: the PIN for one command. A PIN shorter than [`PIN_LEN`] is right
    /// but must be changed first.
    pub fn authenticate(&self, pin: &str) -> Result<Session, PinError> {
        self.verify(pin)?;
        if pin.len() != PIN_LEN {
            return Err(PinError::ChangeRequired);
        }
        Ok(Session {
            channel: Channel::Cli,
        })
    }

    /// The window: a right PIN opens the manager area (see [`IDLE`], [`SESSION_LIMIT`]).
    pub fn unlock(&self, pin: &str) -> Result<Unlocked, PinError> {
        self.verify(pin)?;
        let must_change = pin.len() != PIN_LEN;
        self.open_window(must_change);
        let recovery_code = match self.recovery() {
            None => Some(self.new_recovery_code()?),
            Some(_) => None,
        };
        Ok(Unlocked {
            must_change,
            recovery_code,
        })
    }

    /// Changes the PIN; the current one is checked (counted). Returns a recovery code when
    /// the terminal had none.
    pub fn change(
        &self,
        old: &str,
        new: &str,
        channel: Channel,
    ) -> Result<(Session, Option<RecoveryCode>), PinError> {
        check_shape(new)?;
        self.verify(old)?;
        self.write_pin(new)?;
        let code = match self.recovery() {
            Some(phc) if !phc.is_empty() => None,
            _ => Some(self.new_recovery_code()?),
        };
        if channel == Channel::Window {
            self.open_window(false);
        }
        Ok((Session { channel }, code))
    }

    /// A forgotten PIN, or a lost or damaged PIN file: the recovery code (counted like a
    /// PIN) chooses a new PIN. The code is spent; a new one is returned, to be shown once.
    pub fn reset(
        &self,
        code: &str,
        new: &str,
        channel: Channel,
    ) -> Result<(Session, RecoveryCode), PinError> {
        check_shape(new)?;
        let Some(phc) = self.recovery() else {
            return Err(match self.stored() {
                Stored::Valid(_) => PinError::NoRecoveryCode,
                Stored::Absent(Damage::Missing) => PinError::NotSet,
                Stored::Absent(d) => PinError::Unrecoverable(d),
            });
        };
        let typed = RecoveryCode::normalize(code);
        self.attempt(
            || !phc.is_empty() && matches(&typed, &phc),
            PinError::WrongRecoveryCode,
        )?;
        self.write_pin(new)?;
        let next = self.new_recovery_code()?;
        if channel == Channel::Window {
            self.open_window(false);
        }
        Ok((Session { channel }, next))
    }

    fn open_window(&self, must_change: bool) {
        let now = self.clock.now();
        *self.window.lock().expect("pin session") = Some(WindowSession {
            opened: now,
            last_used: now,
            must_change,
        });
    }

    fn window_session(&self, allow_must_change: bool) -> Result<Session, PinError> {
        let now = self.clock.now();
        let mut w = self.window.lock().expect("pin session");
        let Some(s) = w.as_mut() else {
            return Err(PinError::SessionLocked);
        };
        if now - s.opened >= span(SESSION_LIMIT) {
            *w = None;
            return Err(PinError::SessionExpired);
        }
        if now - s.last_used >= span(IDLE) {
            *w = None;
            return Err(PinError::SessionLocked);
        }
        if s.must_change && !allow_must_change {
            return Err(PinError::ChangeRequired);
        }
        s.last_used = now;
        Ok(Session {
            channel: Channel::Window,
        })
    }

    /// Every manager command of the window asks this first; use keeps the session open until
    /// [`SESSION_LIMIT`] after the PIN was given.
    pub fn require(&self) -> Result<Session, PinError> {
        self.window_session(false)
    }

    /// The window's session, open (a PIN that must be changed included), without using it.
    pub fn window_state(&self) -> (bool, bool) {
        let now = self.clock.now();
        let w = self.window.lock().expect("pin session");
        match w.as_ref() {
            Some(s) if now - s.opened < span(SESSION_LIMIT) && now - s.last_used < span(IDLE) => {
                (true, s.must_change)
            }
            _ => (false, false),
        }
    }

    /// The session a PIN change from the window needs (one that must change included).
    pub fn require_for_change(&self) -> Result<Session, PinError> {
        self.window_session(true)
    }

    pub fn lock(&self) {
        *self.window.lock().expect("pin session") = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_is_hashed_checked_and_locks_out() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        assert!(matches!(pin.set_first("12a456"), Err(PinError::Shape)));
        assert!(matches!(pin.set_first("123"), Err(PinError::Shape)));
        let code = pin.set_first("246813").unwrap();
        let stored = std::fs::read_to_string(dir.path().join("manager-pin")).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("246813"));
        let recovery = std::fs::read_to_string(dir.path().join("manager-pin.recovery")).unwrap();
        assert!(recovery.starts_with("$argon2id$"), "{recovery}");
        assert!(!recovery.contains(&RecoveryCode::normalize(code.reveal())));
        assert!(
            !format!("{code:?}").contains(code.reveal()),
            "Debug hides the code"
        );
        assert!(matches!(pin.set_first("111111"), Err(PinError::AlreadySet)));
        pin.require().unwrap();
        pin.lock();
        assert!(matches!(pin.require(), Err(PinError::SessionLocked)));
        pin.unlock("246813").unwrap();
        assert_eq!(pin.require().unwrap().actor(), "manager");
        pin.lock();
        for left in (1..FREE_TRIES).rev() {
            match pin.unlock("000000") {
                Err(PinError::Wrong(n)) => assert_eq!(n, left),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(pin.unlock("000000"), Err(PinError::Locked(30))));
        // Even the right PIN waits out the lockout.
        assert!(matches!(pin.unlock("246813"), Err(PinError::Locked(_))));
        assert!(matches!(pin.require(), Err(PinError::SessionLocked)));
    }

    #[test]
    fn change_needs_the_old_pin() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        pin.set_first("135791").unwrap();
        assert!(matches!(
            pin.change("000000", "222222", Channel::Window),
            Err(PinError::Wrong(_))
        ));
        assert!(matches!(
            pin.change("135791", "2222", Channel::Window),
            Err(PinError::Shape)
        ));
        let (session, code) = pin.change("135791", "246802", Channel::Cli).unwrap();
        assert_eq!(session.actor(), "manager@cli");
        assert!(code.is_none(), "the recovery code stays");
        pin.lock();
        pin.unlock("246802").unwrap();
        assert_eq!(pin.authenticate("246802").unwrap().actor(), "manager@cli");
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
        for _ in 0..FREE_TRIES {
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
        for _ in 1..FREE_TRIES {
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
        assert!(matches!(
            pin.set_first("999999"),
            Err(PinError::NeedsRecovery(Damage::Missing))
        ));
        assert_eq!(pin.status().state, PinState::NeedsRecovery);
        assert!(matches!(
            pin.unlock(RIGHT),
            Err(PinError::NeedsRecovery(Damage::Missing))
        ));
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
        assert!(matches!(
            pin.set_first("999999"),
            Err(PinError::NeedsRecovery(Damage::Damaged))
        ));
        let s = pin.status();
        assert_eq!(
            (s.state, s.damage),
            (PinState::NeedsRecovery, Some(Damage::Damaged))
        );
        // Damaged with no recovery code at all (a PIN from before recovery codes): still
        // not "no PIN"; it says what to do.
        std::fs::remove_file(dir.path().join("manager-pin.recovery")).unwrap();
        assert!(matches!(
            pin.set_first("999999"),
            Err(PinError::Unrecoverable(Damage::Damaged))
        ));
    }

    #[test]
    fn the_recovery_code_chooses_a_new_pin_once() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        let code = pin.set_first(RIGHT).unwrap();
        std::fs::remove_file(dir.path().join("manager-pin")).unwrap();
        pin.lock();
        assert!(matches!(
            pin.reset("0000-0000-0000-0000-0000", "999999", Channel::Window),
            Err(PinError::WrongRecoveryCode(4))
        ));
        assert!(matches!(
            pin.reset(code.reveal(), "9999", Channel::Window),
            Err(PinError::Shape)
        ));
        // Typed loosely: lower case, spaces, O for 0, l for 1.
        let loose = code
            .reveal()
            .to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "l");
        let (session, next) = pin.reset(&loose, "999999", Channel::Window).unwrap();
        assert_eq!(session.actor(), "manager");
        assert_ne!(next, code);
        pin.require().unwrap();
        pin.lock();
        pin.unlock("999999").unwrap();
        assert!(
            matches!(
                pin.reset(code.reveal(), "888888", Channel::Cli),
                Err(PinError::WrongRecoveryCode(_))
            ),
            "the used code is spent"
        );
        pin.reset(next.reveal(), "888888", Channel::Cli).unwrap();
        assert!(pin.authenticate("888888").is_ok());
    }

    #[test]
    fn recovery_codes_are_random_and_readable() {
        let a = RecoveryCode::generate();
        let b = RecoveryCode::generate();
        assert_ne!(a, b);
        for c in [&a, &b] {
            let groups: Vec<&str> = c.reveal().split('-').collect();
            assert_eq!(groups.len(), 5, "{}", c.reveal());
            assert!(groups.iter().all(|g| g.len() == 4
                && g.bytes()
                    .all(|x| x.is_ascii_digit() || x.is_ascii_uppercase())
                && !g.contains(['I', 'L', 'O', 'U'])));
        }
        assert_eq!(RecoveryCode::normalize("ab1o-Il0 x"), "AB10110X");
    }

    /// A PIN chosen before PINs had six digits still opens, but only to be changed; a
    /// terminal without a recovery code gets one then.
    #[test]
    fn a_short_pin_from_before_verifies_but_must_be_changed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manager-pin"),
            format!("{}\n", hash("2468").unwrap()),
        )
        .unwrap();
        let pin = ManagerPin::new(dir.path());
        assert_eq!(pin.status().state, PinState::Set);
        assert!(!pin.status().has_recovery_code);
        assert!(matches!(
            pin.authenticate("2468"),
            Err(PinError::ChangeRequired)
        ));
        let unlocked = pin.unlock("2468").unwrap();
        assert!(unlocked.must_change);
        assert!(
            unlocked.recovery_code.is_some(),
            "a recovery code is made now"
        );
        assert!(matches!(pin.require(), Err(PinError::ChangeRequired)));
        assert_eq!(pin.window_state(), (true, true));
        pin.require_for_change().unwrap();
        let (_, code) = pin.change("2468", "246813", Channel::Window).unwrap();
        assert!(code.is_none(), "the one made at unlock stays");
        pin.require().unwrap();
        assert!(pin.authenticate("246813").is_ok());
    }

    #[test]
    fn the_lockout_doubles_up_to_a_cap() {
        assert_eq!(lockout_after(FREE_TRIES - 1), None);
        assert_eq!(lockout_after(FREE_TRIES), Some(FIRST_LOCKOUT));
        assert_eq!(lockout_after(FREE_TRIES + 1), Some(FIRST_LOCKOUT * 2));
        assert_eq!(lockout_after(FREE_TRIES + 3), Some(FIRST_LOCKOUT * 8));
        assert_eq!(lockout_after(FREE_TRIES + 40), Some(MAX_LOCKOUT));
        assert_eq!(lockout_after(u32::MAX), Some(MAX_LOCKOUT));
    }

    /// Deleting the tries file does not bring back the free tries.
    #[test]
    fn deleting_the_tries_file_gives_no_free_tries() {
        let dir = tempfile::tempdir().unwrap();
        let pin = ManagerPin::new(dir.path());
        pin.set_first(RIGHT).unwrap();
        pin.lock();
        assert!(matches!(pin.unlock(WRONG), Err(PinError::Wrong(4))));
        std::fs::remove_file(dir.path().join("manager-pin.tries")).unwrap();
        assert!(matches!(pin.unlock(WRONG), Err(PinError::Locked(_))));
        // Damaged: the same.
        std::fs::write(dir.path().join("manager-pin.tries"), "{broken").unwrap();
        assert!(matches!(pin.unlock(WRONG), Err(PinError::Locked(_))));
    }

    /// The window's session also locks when left alone.
    #[test]
    fn an_idle_session_locks() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::system();
        let pin = ManagerPin::with_clock(dir.path(), clock.clone());
        pin.set_first(RIGHT).unwrap();
        clock.advance(IDLE - Duration::from_secs(1));
        pin.require().unwrap();
        clock.advance(IDLE);
        assert!(matches!(pin.require(), Err(PinError::SessionLocked)));
        pin.unlock(RIGHT).unwrap();
        clock.advance(SESSION_LIMIT);
        assert!(matches!(pin.require(), Err(PinError::SessionExpired)));
    }
}
