//! HMAC secrets at rest: sealed with the hub's secret key, never in the
//! database as they are.

use crate::both;
use crate::harness::*;
use till_hub::NewKey;
use till_sync_proto::{generate_hmac_secret, new_event_id, Signer, SigningKey};

fn secret_parts(secret: &SigningKey) -> (String, Vec<u8>) {
    let text = secret.to_text();
    let SigningKey::Hmac(raw) = secret else {
        panic!("not an HMAC secret")
    };
    (text["whsec_".len()..].to_string(), raw.clone())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// M7: `terminal_keys.material` held the `whsec_` text itself: whoever reads
/// the database (a backup, a support copy) could sign as every HMAC terminal.
async fn hmac_secrets_are_not_stored_in_plain_text(b: Backend) {
    let t = TestHub::start(b).await;
    let secret = t
        .hub
        .admin()
        .add_terminal("t1", Some("counter"), NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap();
    let rotated = t
        .hub
        .admin()
        .rotate("t1", NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap();
    // The secrets work.
    for (seq, s) in [(1, &secret), (2, &rotated)] {
        let signer = Signer::new(vec![s.clone()]).unwrap();
        let got = t.send(&signer, &new_event_id(), &settled("t1", seq)).await;
        assert_eq!(got.status, 200, "{}", got.json);
    }
    let materials = t.key_materials().await;
    assert_eq!(materials.len(), 2);
    for s in [&secret, &rotated] {
        let (b64, raw) = secret_parts(s);
        for (key_id, m) in &materials {
            assert!(
                !m.contains(&b64) && !m.starts_with("whsec_"),
                "key {key_id} is stored in plain text: {m}"
            );
        }
        // Nor anywhere in SQLite's files (the database and its WAL).
        if let Some(path) = t.sqlite_path() {
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            for file in [path.clone(), wal.into()] {
                let Ok(bytes) = std::fs::read(&file) else {
                    continue;
                };
                assert!(
                    !contains(&bytes, b64.as_bytes()) && !contains(&bytes, &raw),
                    "{} holds an HMAC secret in plain text",
                    file.display()
                );
            }
        }
    }
    t.stop().await;
}
both!(hmac_secrets_are_not_stored_in_plain_text);

/// A database written by an older hub holds its HMAC secrets as they are:
/// opening it seals them, and the terminals' signatures still verify.
async fn plain_secrets_from_before_are_sealed_on_open(b: Backend) {
    let t = TestHub::start(b).await;
    let old = generate_hmac_secret();
    let key_id = t
        .hub
        .admin()
        .add_terminal("t1", None, NewKey::Existing(old.verifying_key()))
        .await
        .unwrap()
        .key_id;
    // As the previous release wrote it.
    t.set_material(key_id, &old.to_text()).await;
    let t = t.restart().await;
    let (b64, raw) = secret_parts(&old);
    let materials = t.key_materials().await;
    assert!(
        materials
            .iter()
            .all(|(_, m)| !m.contains(&b64) && !m.starts_with("whsec_")),
        "still in plain text after opening: {materials:?}"
    );
    // Nor left behind in SQLite's free pages or WAL.
    if let Some(path) = t.sqlite_path() {
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        for file in [path.clone(), wal.into()] {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            assert!(
                !contains(&bytes, b64.as_bytes()) && !contains(&bytes, &raw),
                "{} still holds the old plain text",
                file.display()
            );
        }
    }
    let signer = Signer::new(vec![old]).unwrap();
    let got = t.send(&signer, &new_event_id(), &settled("t1", 1)).await;
    assert_eq!(got.status, 200, "{}", got.json);
    t.stop().await;
}
both!(plain_secrets_from_before_are_sealed_on_open);

/// The hub refuses to start, and says why, when its secret key is missing or
/// is not the one that sealed the stored secrets; an ed25519-only hub needs
/// no key, and one without a key cannot take an HMAC secret.
async fn missing_or_wrong_secret_key_is_a_clear_error(b: Backend) {
    use till_hub::store::StoreError;
    use till_hub::{AdminError, SecretKey, SecretKeyError, SecretKeySource};
    let key = SecretKey::generate();
    let k = key.clone();
    let t = TestHub::start_with(b, move |c| c.secret_key = SecretKeySource::Key(k)).await;
    let secret = t
        .hub
        .admin()
        .add_terminal("t1", None, NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap();
    let stopped = t.stop_keeping_data().await;

    let other = SecretKey::generate();
    let err = stopped
        .try_start(|c| c.secret_key = SecretKeySource::Key(other.clone()))
        .await
        .err()
        .expect("another key is refused");
    assert!(
        matches!(
            &err,
            till_hub::Error::Store(StoreError::SecretKey(SecretKeyError::WrongKey { given, stored }))
                if *given == other.fingerprint() && *stored == key.fingerprint()
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("wrong key"), "{err}");
    let err = stopped
        .try_start(|c| c.secret_key = SecretKeySource::None)
        .await
        .err()
        .expect("no key is refused");
    assert!(
        matches!(
            err,
            till_hub::Error::Store(StoreError::SecretKey(SecretKeyError::Missing))
        ),
        "{err:?}"
    );
    // The right key: the terminal's secret verifies.
    let k = key.clone();
    let t = stopped
        .start(move |c| c.secret_key = SecretKeySource::Key(k))
        .await;
    let signer = Signer::new(vec![secret]).unwrap();
    let got = t.send(&signer, &new_event_id(), &settled("t1", 1)).await;
    assert_eq!(got.status, 200, "{}", got.json);
    t.stop().await;

    // A hub without a key: ed25519 terminals only.
    let t = TestHub::start_with(b, |c| c.secret_key = SecretKeySource::None).await;
    let admin = t.hub.admin();
    let added = admin
        .add_terminal("t2", None, NewKey::default())
        .await
        .unwrap();
    let signer = Signer::new(vec![added.secret.unwrap()]).unwrap();
    let got = t.send(&signer, &new_event_id(), &settled("t2", 1)).await;
    assert_eq!(got.status, 200, "{}", got.json);
    let err = admin
        .rotate("t2", NewKey::GenerateHmac)
        .await
        .expect_err("no HMAC secret without a key");
    assert!(
        matches!(
            err,
            AdminError::Store(StoreError::SecretKey(SecretKeyError::MissingForNewSecret))
        ),
        "{err:?}"
    );
    assert_eq!(t.key_materials().await.len(), 1, "nothing stored");
    t.stop().await;
}
both!(missing_or_wrong_secret_key_is_a_clear_error);
