//! bKash's Instant Payment Notification (spec §16): Amazon SNS messages a
//! merchant's listener receives for every completed payment, from every
//! channel (checkout, app, USSD, QR).
//!
//! What is here is the wire and its proof, no I/O:
//!
//! - [`Envelope`]: the SNS envelope (`Type`, `MessageId`, `TopicArn`,
//!   `Message` — a JSON *string* —, `Signature`, `SigningCertURL`, …), read
//!   from the body SNS posts as `text/plain`.
//! - [`Envelope::string_to_sign`]: SNS's canonical text, `Key\nValue\n` for
//!   the keys of the message's type in SNS's order, only those present
//!   (§16.3).
//! - [`SigningCertificate`]: the RSA key of the PEM certificate the message
//!   names, and the certificate's validity period. *Where* the certificate
//!   may be fetched from is the receiver's rule (the URL is in the message
//!   itself): check it before fetching.
//! - [`Envelope::verify`]: RSA PKCS#1 v1.5 over the canonical text, SHA-1 for
//!   `SignatureVersion` `"1"` (bKash's own samples), SHA-256 for `"2"`.
//! - [`PaymentNotice`]: the inner `Message` of a payment notification
//!   (`trxID`, `amount`, `currency`, `dateTime` in Bangladesh time, the
//!   coupon fields); amounts are read exactly ([`crate::wire::parse_amount`]).
//!
//! Crypto is RustCrypto's (`rsa`, `sha1`, `sha2`, `x509-cert`), nothing
//! hand-written.

use crate::wire::parse_amount;
use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;
use x509_cert::der::Encode;

/// The SNS header naming the message's type (`x-amz-sns-message-type`).
pub const MESSAGE_TYPE_HEADER: &str = "x-amz-sns-message-type";

/// Bangladesh Standard Time, UTC+06:00 (no daylight saving): the clock of
/// the inner message's `dateTime`.
pub fn bangladesh_time() -> FixedOffset {
    FixedOffset::east_opt(6 * 3600).expect("a valid offset")
}

/// Why an IPN body is not a message we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpnError {
    #[error("not an SNS envelope: {0}")]
    Malformed(String),
    #[error("unknown SNS message type {0:?}")]
    UnknownType(String),
    #[error("{kind} message without {field}")]
    MissingField {
        kind: &'static str,
        field: &'static str,
    },
    #[error("unsupported SignatureVersion {0:?}")]
    SignatureVersion(String),
    #[error("the signature is not base64 or not an RSA signature")]
    SignatureEncoding,
    #[error("the signature does not match the message")]
    BadSignature,
    #[error("not a usable signing certificate: {0}")]
    Certificate(String),
    #[error("not a payment notification: {0}")]
    Notice(String),
}

/// The three SNS message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageKind {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Notification => "Notification",
            MessageKind::SubscriptionConfirmation => "SubscriptionConfirmation",
            MessageKind::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Notification" => Some(MessageKind::Notification),
            "SubscriptionConfirmation" => Some(MessageKind::SubscriptionConfirmation),
            "UnsubscribeConfirmation" => Some(MessageKind::UnsubscribeConfirmation),
            _ => None,
        }
    }
}

/// An SNS envelope as posted (§16.2). Unknown keys are ignored; every value
/// SNS sends is a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    /// Subscription messages only.
    #[serde(rename = "Token", default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    /// Optional, rarely set; signed when present (notifications).
    #[serde(rename = "Subject", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// A JSON string for payment notifications; a sentence for subscriptions.
    #[serde(rename = "Message")]
    pub message: String,
    /// Subscription messages only: GET it to confirm.
    #[serde(
        rename = "SubscribeURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subscribe_url: Option<String>,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SignatureVersion")]
    pub signature_version: String,
    #[serde(rename = "Signature")]
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    /// Notifications only.
    #[serde(
        rename = "UnsubscribeURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub unsubscribe_url: Option<String>,
}

impl Envelope {
    /// Read a posted body (JSON, whatever the content type says).
    pub fn parse(body: &[u8]) -> Result<Envelope, IpnError> {
        serde_json::from_slice(body).map_err(|e| IpnError::Malformed(e.to_string()))
    }

    /// The message's type.
    pub fn message_kind(&self) -> Result<MessageKind, IpnError> {
        MessageKind::parse(&self.kind).ok_or_else(|| IpnError::UnknownType(self.kind.clone()))
    }

    /// SNS's canonical text of the message: `Key\nValue\n` for each key of
    /// its type, in SNS's order, only the keys present (§16.3). A
    /// subscription message without `SubscribeURL` or `Token` is refused:
    /// both are signed and needed.
    pub fn string_to_sign(&self) -> Result<String, IpnError> {
        let kind = self.message_kind()?;
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(7);
        match kind {
            MessageKind::Notification => {
                pairs.push(("Message", &self.message));
                pairs.push(("MessageId", &self.message_id));
                if let Some(s) = &self.subject {
                    pairs.push(("Subject", s));
                }
                pairs.push(("Timestamp", &self.timestamp));
                pairs.push(("TopicArn", &self.topic_arn));
                pairs.push(("Type", &self.kind));
            }
            MessageKind::SubscriptionConfirmation | MessageKind::UnsubscribeConfirmation => {
                let missing = |field| IpnError::MissingField {
                    kind: kind.as_str(),
                    field,
                };
                pairs.push(("Message", &self.message));
                pairs.push(("MessageId", &self.message_id));
                let url = self
                    .subscribe_url
                    .as_deref()
                    .ok_or_else(|| missing("SubscribeURL"))?;
                pairs.push(("SubscribeURL", url));
                pairs.push(("Timestamp", &self.timestamp));
                let token = self.token.as_deref().ok_or_else(|| missing("Token"))?;
                pairs.push(("Token", token));
                pairs.push(("TopicArn", &self.topic_arn));
                pairs.push(("Type", &self.kind));
            }
        }
        let mut text = String::new();
        for (k, v) in pairs {
            text.push_str(k);
            text.push('\n');
            text.push_str(v);
            text.push('\n');
        }
        Ok(text)
    }

    /// Check the signature with the certificate's key. `versions` are the
    /// `SignatureVersion`s the receiver accepts (`"1"`: SHA-1, `"2"`:
    /// SHA-256); any other is refused before any crypto.
    pub fn verify(&self, cert: &SigningCertificate, versions: &[String]) -> Result<(), IpnError> {
        let v = self.signature_version.as_str();
        if !versions.iter().any(|a| a == v) || !matches!(v, "1" | "2") {
            return Err(IpnError::SignatureVersion(v.to_owned()));
        }
        let text = self.string_to_sign()?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(self.signature.trim())
            .map_err(|_| IpnError::SignatureEncoding)?;
        let sig = Signature::try_from(raw.as_slice()).map_err(|_| IpnError::SignatureEncoding)?;
        let ok = if v == "1" {
            VerifyingKey::<sha1::Sha1>::new(cert.key.clone()).verify(text.as_bytes(), &sig)
        } else {
            VerifyingKey::<sha2::Sha256>::new(cert.key.clone()).verify(text.as_bytes(), &sig)
        };
        ok.map_err(|_| IpnError::BadSignature)
    }

    /// The inner payment notice of a `Notification`.
    pub fn notice(&self) -> Result<PaymentNotice, IpnError> {
        PaymentNotice::parse(&self.message)
    }
}

/// The RSA key an SNS signing certificate holds, and when it is valid.
#[derive(Debug, Clone)]
pub struct SigningCertificate {
    key: RsaPublicKey,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

impl SigningCertificate {
    /// The first certificate of a PEM text. Only RSA keys are accepted
    /// (SNS signs with RSA).
    pub fn from_pem(pem: &[u8]) -> Result<SigningCertificate, IpnError> {
        let bad = |e: &dyn std::fmt::Display| IpnError::Certificate(e.to_string());
        let chain = x509_cert::Certificate::load_pem_chain(pem).map_err(|e| bad(&e))?;
        let cert = chain
            .into_iter()
            .next()
            .ok_or_else(|| IpnError::Certificate("no certificate in the PEM text".into()))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| bad(&e))?;
        let key = RsaPublicKey::from_public_key_der(&spki).map_err(|e| bad(&e))?;
        let validity = &cert.tbs_certificate.validity;
        Ok(SigningCertificate {
            key,
            not_before: validity.not_before.to_system_time(),
            not_after: validity.not_after.to_system_time(),
        })
    }

    /// Whether `at` is within the certificate's validity period.
    pub fn valid_at(&self, at: SystemTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// The inner `Message` of a payment notification (§16.4). Every value is a
/// string on the wire; unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentNotice {
    /// `yyyyMMddHHmmss`, Bangladesh time.
    pub date_time: String,
    #[serde(rename = "debitMSISDN", default)]
    pub debit_msisdn: Option<String>,
    #[serde(default)]
    pub credit_organization_name: Option<String>,
    /// Often masked (`01929918***`).
    #[serde(default)]
    pub credit_short_code: Option<String>,
    /// The id execute and search name.
    #[serde(rename = "trxID")]
    pub trx_id: String,
    /// `"Completed"`.
    pub transaction_status: String,
    #[serde(default)]
    pub transaction_type: Option<String>,
    /// What bKash settled (after a coupon).
    pub amount: String,
    pub currency: String,
    #[serde(default)]
    pub transaction_reference: Option<String>,
    /// The merchant's invoice.
    #[serde(default)]
    pub merchant_invoice_number: Option<String>,
    /// Coupon payments only.
    #[serde(default)]
    pub coupon_amount: Option<String>,
    #[serde(default)]
    pub merchant_share_amount: Option<String>,
    /// Coupon payments only: the sale's amount, what the merchant's own
    /// record holds (§16.4: reconcile against it).
    #[serde(default)]
    pub sale_amount: Option<String>,
}

impl PaymentNotice {
    /// Read the inner message; the amounts and `dateTime` must be readable.
    pub fn parse(message: &str) -> Result<PaymentNotice, IpnError> {
        let n: PaymentNotice =
            serde_json::from_str(message).map_err(|e| IpnError::Notice(e.to_string()))?;
        if n.trx_id.trim().is_empty() {
            return Err(IpnError::Notice("empty trxID".into()));
        }
        n.amount()?;
        n.sale_amount()?;
        n.paid_at()?;
        Ok(n)
    }

    /// `amount`, exactly.
    pub fn amount(&self) -> Result<Decimal, IpnError> {
        parse_amount(&self.amount)
            .ok_or_else(|| IpnError::Notice(format!("amount {:?} is not a decimal", self.amount)))
    }

    /// `saleAmount` when the notice has one (coupon payments), exactly.
    pub fn sale_amount(&self) -> Result<Option<Decimal>, IpnError> {
        self.sale_amount
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                parse_amount(s)
                    .ok_or_else(|| IpnError::Notice(format!("saleAmount {s:?} is not a decimal")))
            })
            .transpose()
    }

    /// The amount of the sale, which the merchant's record of the payment
    /// holds: `saleAmount` for a coupon payment, else `amount`.
    pub fn sale_total(&self) -> Result<Decimal, IpnError> {
        Ok(match self.sale_amount()? {
            Some(s) => s,
            None => self.amount()?,
        })
    }

    /// `dateTime` read as Bangladesh time.
    pub fn paid_at(&self) -> Result<DateTime<FixedOffset>, IpnError> {
        let bad = || {
            IpnError::Notice(format!(
                "dateTime {:?} is not yyyyMMddHHmmss",
                self.date_time
            ))
        };
        let naive = NaiveDateTime::parse_from_str(self.date_time.trim(), "%Y%m%d%H%M%S")
            .map_err(|_| bad())?;
        bangladesh_time()
            .from_local_datetime(&naive)
            .single()
            .ok_or_else(bad)
    }

    /// `transactionStatus` is `Completed` (the only one bKash notifies).
    pub fn is_completed(&self) -> bool {
        self.transaction_status == "Completed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTIFICATION: &str =
        include_str!("../../../tests/data/bkash-fixtures/ipn/sns-notification-payment.json");
    const SUBSCRIPTION: &str =
        include_str!("../../../tests/data/bkash-fixtures/ipn/sns-subscription-confirmation.json");
    const COUPON: &str = include_str!("../../../tests/data/bkash-fixtures/ipn/message-coupon.json");

    #[test]
    fn canonical_text_of_a_notification() {
        let env = Envelope::parse(NOTIFICATION.as_bytes()).unwrap();
        assert_eq!(env.message_kind().unwrap(), MessageKind::Notification);
        let text = env.string_to_sign().unwrap();
        let keys: Vec<&str> = text.lines().step_by(2).collect();
        assert_eq!(
            keys,
            ["Message", "MessageId", "Timestamp", "TopicArn", "Type"]
        );
        assert!(text.ends_with("Type\nNotification\n"));
        // A subject, when present, is signed between MessageId and Timestamp.
        let mut with_subject = env.clone();
        with_subject.subject = Some("s".into());
        let keys: Vec<String> = with_subject
            .string_to_sign()
            .unwrap()
            .lines()
            .step_by(2)
            .map(String::from)
            .collect();
        assert_eq!(keys[2], "Subject");
    }

    #[test]
    fn canonical_text_of_a_subscription() {
        let env = Envelope::parse(SUBSCRIPTION.as_bytes()).unwrap();
        // The message holds a newline: compare the whole text.
        let expected = format!(
            "Message\n{}\nMessageId\n{}\nSubscribeURL\n{}\nTimestamp\n{}\nToken\n{}\nTopicArn\n{}\nType\nSubscriptionConfirmation\n",
            env.message,
            env.message_id,
            env.subscribe_url.as_deref().unwrap(),
            env.timestamp,
            env.token.as_deref().unwrap(),
            env.topic_arn
        );
        assert_eq!(env.string_to_sign().unwrap(), expected);
        let mut no_url = env.clone();
        no_url.subscribe_url = None;
        assert!(matches!(
            no_url.string_to_sign(),
            Err(IpnError::MissingField {
                field: "SubscribeURL",
                ..
            })
        ));
    }

    #[test]
    fn notices_are_read_exactly() {
        let env = Envelope::parse(NOTIFICATION.as_bytes()).unwrap();
        let n = env.notice().unwrap();
        assert_eq!(n.trx_id, "CC460QZ7KA");
        assert_eq!(n.amount().unwrap(), Decimal::from(250));
        assert_eq!(n.sale_total().unwrap(), Decimal::from(250));
        assert!(n.is_completed());
        assert_eq!(
            n.paid_at().unwrap().to_rfc3339(),
            "2025-03-04T14:06:40+06:00"
        );
        let c = PaymentNotice::parse(COUPON).unwrap();
        assert_eq!(c.amount().unwrap(), Decimal::from(90));
        assert_eq!(c.sale_total().unwrap().to_string(), "100.00");
        for bad in [
            r#"{"dateTime":"2025-03-04","trxID":"X","transactionStatus":"Completed","amount":"1","currency":"BDT"}"#,
            r#"{"dateTime":"20250304140640","trxID":"X","transactionStatus":"Completed","amount":"1e2","currency":"BDT"}"#,
            r#"{"dateTime":"20250304140640","trxID":"","transactionStatus":"Completed","amount":"1","currency":"BDT"}"#,
            r#"{"dateTime":"20250304140640","transactionStatus":"Completed","amount":"1","currency":"BDT"}"#,
        ] {
            assert!(PaymentNotice::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_versions_and_garbage_are_refused_before_crypto() {
        let env = Envelope::parse(NOTIFICATION.as_bytes()).unwrap();
        // Any certificate will do: the version is refused first.
        let pem = include_str!("../tests/data/ipn-test-cert.pem");
        let cert = SigningCertificate::from_pem(pem.as_bytes()).unwrap();
        let mut v3 = env.clone();
        v3.signature_version = "3".into();
        assert_eq!(
            v3.verify(&cert, &["1".into(), "2".into(), "3".into()]),
            Err(IpnError::SignatureVersion("3".into()))
        );
        assert_eq!(
            env.verify(&cert, &["2".into()]),
            Err(IpnError::SignatureVersion("1".into()))
        );
        let mut garbage = env.clone();
        garbage.signature = "not base64!".into();
        assert_eq!(
            garbage.verify(&cert, &["1".into()]),
            Err(IpnError::SignatureEncoding)
        );
        // The fixture was signed by another key.
        assert_eq!(
            env.verify(&cert, &["1".into()]),
            Err(IpnError::BadSignature)
        );
        assert!(SigningCertificate::from_pem(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        )
        .is_err());
        assert!(Envelope::parse(b"{}").is_err());
        let mut odd = env;
        odd.kind = "Other".into();
        assert_eq!(
            odd.string_to_sign(),
            Err(IpnError::UnknownType("Other".into()))
        );
    }
}
