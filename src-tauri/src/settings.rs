//! The manager's settings screen: what it shows and how a change is written.
//!
//! Settings are keys of `<home>/till.toml`, edited in place (comments and
//! unknown keys kept, `toml_edit`), checked by loading the result as a whole
//! configuration before anything is written, and written atomically. Secrets
//! never pass through here: they go to the keyring (see `commands::manager`).

use serde::{Deserialize, Serialize};
use std::path::Path;
use till_core::config::{Config, DEFAULTS_TOML};

/// The keys the settings screen edits, as `section.key`.
pub const EDITABLE: &[&str] = &[
    "terminal.id",
    "shop.name",
    "shop.name_bn",
    "shop.name_km",
    "business_day.timezone",
    "business_day.cutoff",
    "khqr.bakong_account_id",
    "khqr.merchant_name",
    "khqr.merchant_city",
    "khqr.default_currency",
    "khqr.expiry_seconds",
    "bkash.environment",
    "bkash.base_url",
    "bkash.checkout_origin",
    "bkash.token_from",
    "bkash.enabled",
    "bakong.environment",
    "bakong.base_url",
    "bakong.enabled",
    "nagad.environment",
    "nagad.base_url",
    "nagad.checkout_origin",
    "nagad.merchant_id",
    "nagad.refunds",
    "nagad.enabled",
    "demo.enabled",
    "demo.in_process",
    "display.kiosk",
    "sound.enabled",
    "sound.volume",
    "printer.enabled",
    "printer.target",
    "printer.width_mm",
    "printer.auto_print",
    "api.enabled",
    "api.listen",
    "hub.url",
];

/// One editable setting with its current value (as text).
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
}

/// The current values of [`EDITABLE`], from the configuration in force.
pub fn current(config: &Config) -> Vec<Setting> {
    let value = toml::Value::try_from(config).unwrap_or(toml::Value::Table(Default::default()));
    EDITABLE
        .iter()
        .map(|key| {
            let mut v = Some(&value);
            for part in key.split('.') {
                v = v.and_then(|x| x.get(part));
            }
            let text = match v {
                Some(toml::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            Setting { key, value: text }
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    pub key: String,
    /// Empty removes the key from till.toml (back to the built-in default).
    pub value: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} is not a setting this screen changes")]
    NotEditable(String),
    #[error("till.toml cannot be read as TOML: {0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// Applies `changes` to `<home>/till.toml`: validated as a whole first,
/// then written atomically. Returns the keys that changed.
pub fn save(home: &Path, changes: &[Change]) -> Result<Vec<String>, SettingsError> {
    let path = home.join("till.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| SettingsError::Syntax(e.to_string()))?;
    let defaults: toml::Table = toml::from_str(DEFAULTS_TOML).expect("built-in defaults parse");
    let mut changed = Vec::new();
    for c in changes {
        let Some(key) = EDITABLE.iter().find(|k| **k == c.key) else {
            return Err(SettingsError::NotEditable(c.key.clone()));
        };
        let (section, name) = key.split_once('.').expect("section.key");
        let value = c.value.trim();
        if !doc.contains_key(section) {
            doc[section] = toml_edit::table();
        }
        let table = doc[section]
            .as_table_mut()
            .ok_or_else(|| SettingsError::Syntax(format!("[{section}] is not a table")))?;
        let before = table.get(name).map(|i| i.to_string());
        if value.is_empty() {
            table.remove(name);
        } else {
            table[name] = toml_edit::value(typed(&defaults, section, name, value));
        }
        if table.get(name).map(|i| i.to_string()) != before {
            changed.push(key.to_string());
        }
    }
    let new_text = doc.to_string();
    // The whole configuration must still load: otherwise nothing is written.
    Config::from_layers(
        DEFAULTS_TOML,
        Some(("till.toml", &new_text)),
        std::iter::empty(),
    )
    .map_err(|e| SettingsError::Invalid(e.to_string()))?;
    let tmp = home.join("till.toml.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(new_text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| SettingsError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(changed)
}

/// Text typed into a field, as the TOML type the built-in default has.
fn typed(defaults: &toml::Table, section: &str, name: &str, value: &str) -> toml_edit::Value {
    let default = defaults.get(section).and_then(|s| s.get(name));
    match default {
        Some(toml::Value::Boolean(_)) => match value {
            "true" | "on" | "yes" => toml_edit::Value::from(true),
            "false" | "off" | "no" => toml_edit::Value::from(false),
            other => toml_edit::Value::from(other),
        },
        Some(toml::Value::Integer(_)) => value
            .parse::<i64>()
            .map(toml_edit::Value::from)
            .unwrap_or_else(|_| toml_edit::Value::from(value)),
        _ => toml_edit::Value::from(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(key: &str, value: &str) -> Change {
        Change {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn saves_typed_values_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("till.toml"),
            "# my shop\n[shop]\nname = \"Old\" # the sign\n",
        )
        .unwrap();
        let changed = save(
            dir.path(),
            &[
                change("shop.name", "Rahim Store"),
                change("business_day.cutoff", "03:00"),
                change("demo.in_process", "false"),
                // Out of demo mode the demo shop's KHQR account is refused.
                change("khqr.bakong_account_id", "rahim_store@aclb"),
                change("khqr.expiry_seconds", "240"),
            ],
        )
        .unwrap();
        assert_eq!(changed.len(), 5);
        let text = std::fs::read_to_string(dir.path().join("till.toml")).unwrap();
        assert!(text.contains("# my shop"));
        assert!(text.contains("in_process = false"), "{text}");
        assert!(text.contains("expiry_seconds = 240"), "{text}");
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.shop.name, "Rahim Store");
        assert!(!c.demo.in_process);
        let shown = current(&c);
        let cutoff = shown
            .iter()
            .find(|s| s.key == "business_day.cutoff")
            .unwrap();
        assert_eq!(cutoff.value, "03:00");
    }

    #[test]
    fn invalid_values_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let e = save(
            dir.path(),
            &[change("business_day.timezone", "Mars/Olympus")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("timezone"), "{e}");
        assert!(!dir.path().join("till.toml").exists());
        let e = save(dir.path(), &[change("bkash.app_secret", "x")]).unwrap_err();
        assert!(matches!(e, SettingsError::NotEditable(_)));
    }
}
