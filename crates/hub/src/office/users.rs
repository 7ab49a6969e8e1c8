//! Office users: names, roles, languages and passwords (Argon2id, as PHC
//! strings). What `till-hub user add|list|disable|enable|passwd` calls.

use super::i18n::Lang;
use super::model::{NewOfficeUser, OfficeUser, Role, UserInfo, UserStatus};
use crate::store::{Store, StoreError};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::Utc;
use std::sync::{Arc, OnceLock};

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most bytes a password may have (Argon2 takes any length; a sign-in form
/// must not be a way to make the hub hash megabytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest user name.
pub const MAX_NAME_CHARS: usize = 64;

/// What can go wrong managing users.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(
        "invalid user name {0:?}: use 1 to {MAX_NAME_CHARS} characters of a-z 0-9 . _ - @ \
         (names are not case-sensitive)"
    )]
    InvalidName(String),
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password is too long: at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
    #[error("the password must not be the user name")]
    PasswordIsName,
    #[error("unknown language {0:?}: use en, bn or km")]
    BadLanguage(String),
    #[error("user {0:?} already exists")]
    Exists(String),
    #[error("no user is named {0:?}")]
    NoSuchUser(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user name as stored: trimmed, lower case, checked.
pub fn normalize_name(name: &str) -> Result<String, UserError> {
    let n = name.trim().to_lowercase();
    let ok = !n.is_empty()
        && n.chars().count() <= MAX_NAME_CHARS
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(n)
    } else {
        Err(UserError::InvalidName(name.to_owned()))
    }
}

fn check_password(username: &str, password: &str) -> Result<(), UserError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::PasswordTooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::PasswordTooShort);
    }
    if password.trim().eq_ignore_ascii_case(username) {
        return Err(UserError::PasswordIsName);
    }
    Ok(())
}

/// An Argon2id hash (the crate's defaults: 19 MiB, 2 passes, 1 lane, a
/// random salt) as a PHC string.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` is the one `hash` was made from (a damaged hash
/// matches nothing). Takes as long as a real check either way.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash no password is known for: checked against when the name is
/// unknown, so an unknown name takes as long to refuse as a wrong password.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random: [u8; 24] = rand::random();
        hash_password(&format!("{random:?}")).expect("hashing a random password")
    })
}

fn language(code: Option<&str>) -> Result<Option<String>, UserError> {
    code.map(|c| {
        Lang::from_code(c)
            .map(|l| l.code().to_owned())
            .ok_or_else(|| UserError::BadLanguage(c.to_owned()))
    })
    .transpose()
}

/// User administration over a store.
#[derive(Clone)]
pub struct Users {
    store: Arc<dyn Store>,
}

impl Users {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Users { store }
    }

    /// Add a user (the name is stored in lower case).
    pub async fn add(
        &self,
        name: &str,
        password: &str,
        role: Role,
        lang: Option<&str>,
    ) -> Result<OfficeUser, UserError> {
        let username = normalize_name(name)?;
        check_password(&username, password)?;
        let language = language(lang)?;
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| UserError::Hash(e.to_string()))??;
        let new = NewOfficeUser {
            username: username.clone(),
            password_hash,
            role,
            language,
            created_at: Utc::now(),
        };
        if self.store.office_add_user(&new).await?.is_none() {
            return Err(UserError::Exists(username));
        }
        self.store
            .office_user(&username)
            .await?
            .ok_or(UserError::NoSuchUser(username))
    }

    /// Every user, by name (never their hashes).
    pub async fn list(&self) -> Result<Vec<UserInfo>, UserError> {
        Ok(self
            .store
            .office_users()
            .await?
            .iter()
            .map(UserInfo::from)
            .collect())
    }

    /// Refuse the user's sign-ins from now on and end their sessions.
    pub async fn disable(&self, name: &str) -> Result<(), UserError> {
        self.set_status(name, UserStatus::Disabled).await
    }

    /// Let a disabled user sign in again.
    pub async fn enable(&self, name: &str) -> Result<(), UserError> {
        self.set_status(name, UserStatus::Active).await
    }

    async fn set_status(&self, name: &str, status: UserStatus) -> Result<(), UserError> {
        let username = normalize_name(name)?;
        if self.store.office_set_status(&username, status).await? {
            Ok(())
        } else {
            Err(UserError::NoSuchUser(username))
        }
    }

    /// A new password: the lockout is lifted and every session of the user ends.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), UserError> {
        let username = normalize_name(name)?;
        check_password(&username, password)?;
        if self.store.office_user(&username).await?.is_none() {
            return Err(UserError::NoSuchUser(username));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| UserError::Hash(e.to_string()))??;
        if self
            .store
            .office_set_password(&username, &hash, Utc::now())
            .await?
        {
            Ok(())
        } else {
            Err(UserError::NoSuchUser(username))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_and_plain() {
        assert_eq!(normalize_name(" Rahim.K ").unwrap(), "rahim.k");
        assert_eq!(normalize_name("a@b-c_d").unwrap(), "a@b-c_d");
        for bad in ["", "has space", "ঢাকা", &"x".repeat(65), "semi;colon"] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_checked_then_hashed_with_argon2id() {
        assert!(matches!(
            check_password("rahim", "short"),
            Err(UserError::PasswordTooShort)
        ));
        assert!(matches!(
            check_password("rahimrahim", "RahimRahim"),
            Err(UserError::PasswordIsName)
        ));
        assert!(check_password("rahim", &"x".repeat(2000)).is_err());
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterz"));
        assert!(!verify_password("$argon2id$garbage", "anything"));
        assert!(!verify_password(decoy_hash(), ""));
    }
}
