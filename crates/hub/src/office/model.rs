//! What the store keeps for the office: users, sessions, and the settlement
//! search's filters. Plain data; the rules are in [`super::users`] and
//! [`super::sessions`].

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// What an office user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every page that reads; no form that changes anything but their own language.
    Read,
    /// Also terminals and keys (add, rotate, retire, disable, enable).
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }

    /// `read` or `admin` (as stored and as the CLI takes it).
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "active" => Some(UserStatus::Active),
            "disabled" => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// The columns an [`OfficeUser`] is read from (table alias `u`), in its
/// fields' order; both stores read them so.
pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.password_hash, u.role, u.language, \
     u.status, u.failures, u.locked_until, u.created_at, u.password_changed_at, u.last_sign_in_at";

/// How often a session's last use is written (at most once this many
/// seconds, not at every page).
pub(crate) const SESSION_SEEN_GRANULARITY_SECS: i64 = 60;

/// A stored office user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeUser {
    pub id: i64,
    /// Lower case (names are compared without case).
    pub username: String,
    /// Argon2id, as a PHC string.
    pub password_hash: String,
    pub role: Role,
    /// `en`, `bn` or `km`; `None`: the browser's Accept-Language decides.
    pub language: Option<String>,
    pub status: UserStatus,
    /// Wrong passwords since the last right one (or the last lockout).
    pub failures: u32,
    /// Sign-in is refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// A user as `till-hub user list` shows it: never the password's hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub language: Option<String>,
    pub status: UserStatus,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl From<&OfficeUser> for UserInfo {
    fn from(u: &OfficeUser) -> Self {
        UserInfo {
            username: u.username.clone(),
            role: u.role,
            language: u.language.clone(),
            status: u.status,
            locked_until: u.locked_until,
            created_at: u.created_at,
            password_changed_at: u.password_changed_at,
            last_sign_in_at: u.last_sign_in_at,
        }
    }
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewOfficeUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A session to store (its token stays in the browser).
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 (hex) of the cookie's token.
    pub token_sha256: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    /// The absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
}

/// A live session as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The settlement search's filters (every one optional; all given must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeSearch {
    /// Found (without case) inside the payment's id, its invoice, any of its
    /// references (lookup, transaction, external; older events' names
    /// included), or the refund's ids.
    pub text: Option<String>,
    /// The payment's amount, or the refund's, exactly (12.5 finds 12.50).
    pub amount: Option<Decimal>,
    pub terminal: Option<String>,
    pub day: Option<NaiveDate>,
    pub provider: Option<String>,
    /// Only events after this cursor (paging, as the read API's `after`).
    pub after: Option<i64>,
    pub limit: u32,
}

impl OfficeSearch {
    /// The `LIKE` pattern of [`OfficeSearch::text`]: `\`, `%` and `_` taken literally.
    pub fn like_pattern(&self) -> Option<String> {
        self.text.as_deref().map(|t| {
            let mut p = String::with_capacity(t.len() + 2);
            p.push('%');
            for c in t.chars() {
                if matches!(c, '\\' | '%' | '_') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        })
    }

    /// The texts an amount column may hold for [`OfficeSearch::amount`]: the
    /// value at 0 to 4 decimals (SQLite keeps amounts as the terminal wrote
    /// them, at the currency's exponent, and must not compare them as floats).
    pub fn amount_texts(&self) -> Option<[String; 5]> {
        self.amount.map(|a| {
            let a = a.normalize();
            std::array::from_fn(|i| {
                let scale = (a.scale() + i as u32).min(28);
                let mut d = a;
                d.rescale(scale);
                d.to_string()
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        let q = OfficeSearch {
            text: Some("a%b_c\\".into()),
            ..Default::default()
        };
        assert_eq!(q.like_pattern().unwrap(), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn amount_texts_cover_the_scales_a_terminal_writes() {
        let q = OfficeSearch {
            amount: Some("12.5".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            q.amount_texts().unwrap(),
            ["12.5", "12.50", "12.500", "12.5000", "12.50000"].map(String::from)
        );
        let q = OfficeSearch {
            amount: Some("2000".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(q.amount_texts().unwrap()[0], "2000");
        assert_eq!(q.amount_texts().unwrap()[2], "2000.00");
    }
}
