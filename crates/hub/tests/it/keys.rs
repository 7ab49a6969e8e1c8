//! Key rotation and ed25519 terminals.

use crate::both;
use crate::harness::*;
use till_hub::NewKey;
use till_sync_proto::{generate_ed25519_keypair, generate_hmac_secret, new_event_id, Signer};

async fn rotation_accepts_old_new_and_both_then_retires_old(b: Backend) {
    let t = TestHub::start(b).await;
    let admin = t.hub.admin();
    let old = admin
        .add_terminal("t1", None, NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap();
    let new = admin
        .rotate("t1", NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap();
    let mut seq = 0;
    for signer in [
        signer_of(&[&old]),
        signer_of(&[&new]),
        signer_of(&[&old, &new]),
    ] {
        seq += 1;
        let got = t.send(&signer, &new_event_id(), &settled("t1", seq)).await;
        assert_eq!(got.status, 200, "during rotation, seq {seq}: {}", got.json);
    }
    let retired = admin.retire_key("t1", None).await.unwrap();
    assert_eq!(retired.len(), 1);
    let got = t
        .send(&signer_of(&[&old]), &new_event_id(), &settled("t1", 4))
        .await;
    assert_eq!(got.status, 401, "old key after retirement");
    assert_eq!(got.json["error"], "bad_signature");
    for signer in [signer_of(&[&new]), signer_of(&[&old, &new])] {
        seq += 1;
        let got = t.send(&signer, &new_event_id(), &settled("t1", seq)).await;
        assert_eq!(got.status, 200, "{}", got.json);
    }
    // The last key cannot be retired by the default.
    assert!(admin.retire_key("t1", None).await.is_err());
    t.stop().await;
}
both!(rotation_accepts_old_new_and_both_then_retires_old);

async fn ed25519_terminal_hub_holds_only_public_key(b: Backend) {
    let t = TestHub::start(b).await;
    let kp = generate_ed25519_keypair();
    let added = t
        .hub
        .admin()
        .add_terminal(
            "pp-till1",
            Some("Phnom Penh 1"),
            NewKey::Existing(kp.public.clone()),
        )
        .await
        .unwrap();
    assert!(added.secret.is_none());
    let signer = Signer::new(vec![kp.signing.clone()]).unwrap();
    let e = settled_amount("pp-till1", 1, "bakong", "40000", "KHR");
    let id = new_event_id();
    let body = e.to_json();
    let h = signer.headers(&id, now(), &body);
    assert!(h.signature.starts_with("v1a,"));
    let got = t.send(&signer, &id, &e).await;
    assert_eq!(got.status, 200, "{}", got.json);
    // An HMAC signature cannot stand in; another ed25519 key neither.
    for other in [
        Signer::new(vec![generate_hmac_secret()]).unwrap(),
        Signer::new(vec![generate_ed25519_keypair().signing]).unwrap(),
    ] {
        let got = t
            .send(
                &other,
                &new_event_id(),
                &settled_amount("pp-till1", 2, "bakong", "1", "KHR"),
            )
            .await;
        assert_eq!(got.status, 401);
    }
    // The listing shows the public key, never a secret.
    let list = t.read("/v1/terminals").await;
    let keys = &list["terminals"][0]["keys"];
    assert_eq!(keys[0]["kind"], "ed25519");
    assert_eq!(keys[0]["public_key"], kp.public.to_text().as_str());
    t.stop().await;
}
both!(ed25519_terminal_hub_holds_only_public_key);
