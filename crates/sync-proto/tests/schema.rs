//! The JSON Schemas in `schema/` and the serde types describe the same
//! payload: samples valid for one are valid for the other, and what serde
//! writes validates against the schema of the version it writes (3).

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use till_sync_proto::{
    Event, Payment, References, Refund, EVENT_V1_SCHEMA, EVENT_V2_SCHEMA, EVENT_V3_SCHEMA,
};

fn validator() -> jsonschema::Validator {
    validator_of(EVENT_V1_SCHEMA)
}

fn validator_v2() -> jsonschema::Validator {
    validator_of(EVENT_V2_SCHEMA)
}

fn validator_v3() -> jsonschema::Validator {
    validator_of(EVENT_V3_SCHEMA)
}

/// A version 1 sample as version 3 writes it: references by what they are
/// for, and a payee.
fn v3(mut v: Value) -> Value {
    v["schema"] = "till.event/3".into();
    if v["payment"].is_object() {
        v["payment"]["references"] =
            json!({"lookup": "TR0011ABC", "transaction": "BFM1XYZ", "external": null});
        v["payment"]["payee"] = "merchant-0123456789abcdef".into();
    }
    v
}

fn validator_of(text: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| e.to_string()).collect()
}

fn settled_sample() -> Value {
    json!({"schema":"till.event/1","terminal_id":"shop1-till1","sequence":42,
        "type":"payment.settled","occurred_at":"2026-11-22T10:15:00+06:00","business_day":"2026-11-22",
        "payment":{"id":"01JD5Z6Q8W3K9N2M4P7R1S0T5V","provider":"bkash","amount":"12.50","currency":"BDT",
            "references":{"payment_id":"TR0011ABC","trx_id":"BFM1XYZ","md5":null,"hash":null},
            "created_at":"2026-11-22T10:14:00+06:00","settled_at":"2026-11-22T10:15:00+06:00"},
        "refund":null})
}

fn refunded_sample() -> Value {
    let mut v = settled_sample();
    v["type"] = "payment.refunded".into();
    v["sequence"] = 43.into();
    v["refund"] = json!({"id":"01JD600000000000000000000R","amount":"2.25","currency":"BDT",
        "provider_refund_id":"RF123","refunded_at":"2026-11-22T11:00:00+06:00","total_refunded":"2.25"});
    v
}

fn closed_sample() -> Value {
    json!({"schema":"till.event/1","terminal_id":"pp-till2","sequence":7,"type":"day.closed",
        "occurred_at":"2026-11-22T23:59:00+07:00","business_day":"2026-11-22",
        "payment":null,"refund":null,"day":{"anything":["goes",1]}})
}

#[test]
fn samples_are_valid_for_schema_and_serde() {
    let (v1, v3_schema) = (validator(), validator_v3());
    for sample in [settled_sample(), refunded_sample(), closed_sample()] {
        assert_eq!(errors(&v1, &sample), Vec::<String>::new(), "{sample}");
        let old = Event::from_slice(sample.to_string().as_bytes()).unwrap();
        let now = v3(sample);
        assert_eq!(errors(&v3_schema, &now), Vec::<String>::new(), "{now}");
        let e = Event::from_slice(now.to_string().as_bytes()).unwrap();
        // Serde's output of the parsed event is the same document.
        let back: Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(back, now);
        // The version 1 event reads as the same references.
        assert_eq!(
            old.payment.map(|p| p.references),
            e.payment.map(|p| p.references)
        );
    }
    // Each schema takes only its own version.
    assert!(!v1.is_valid(&v3(settled_sample())));
    assert!(!v3_schema.is_valid(&settled_sample()));
}

#[test]
fn version_2_samples_carry_the_payee() {
    let v = validator_v2();
    let mut s = settled_sample();
    s["schema"] = "till.event/2".into();
    s["payment"]["payee"] = "rahim_store@aclb".into();
    assert_eq!(errors(&v, &s), Vec::<String>::new(), "{s}");
    let e = Event::from_slice(s.to_string().as_bytes()).unwrap();
    assert_eq!(
        e.payment.as_ref().unwrap().payee.as_deref(),
        Some("rahim_store@aclb")
    );
    // Unknown payee: absent, valid for both.
    s["payment"].as_object_mut().unwrap().remove("payee");
    assert!(v.is_valid(&s));
    // The v1 schema does not take a v2 event, nor the v2 schema a v1 one.
    assert!(!validator().is_valid(&s));
    assert!(!v.is_valid(&settled_sample()));
    let mut empty = s.clone();
    empty["payment"]["payee"] = "".into();
    assert!(!v.is_valid(&empty));
    assert!(Event::from_slice(empty.to_string().as_bytes()).is_err());
}

#[test]
fn constructed_events_validate() {
    let v = validator_v3();
    let payment = Payment {
        id: "p1".into(),
        provider: "bakong".into(),
        amount: Decimal::from_str("40000").unwrap(),
        currency: "KHR".into(),
        references: References {
            lookup: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
            ..References::default()
        },
        created_at: DateTime::parse_from_rfc3339("2026-11-22T09:00:00+07:00").unwrap(),
        settled_at: DateTime::parse_from_rfc3339("2026-11-22T09:01:00+07:00").unwrap(),
        payee: Some("pp_shop@aclb".into()),
        invoice: Some("till-01-000007".into()),
    };
    let at = DateTime::parse_from_rfc3339("2026-11-22T09:01:00+07:00").unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let refund = Refund {
        id: "r1".into(),
        amount: Decimal::from_str("100").unwrap(),
        currency: "KHR".into(),
        provider_refund_id: None,
        refunded_at: at,
        total_refunded: Decimal::from_str("100").unwrap(),
    };
    for e in [
        Event::payment_settled("pp-till1", 1, at, day, payment.clone()),
        Event::payment_refunded("pp-till1", 2, at, day, payment, refund),
        Event::day_closed("pp-till1", 3, at, day, json!({})),
    ] {
        e.validate().unwrap();
        let doc: Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(errors(&v, &doc), Vec::<String>::new(), "{doc}");
    }
}

#[test]
fn unknown_fields_are_allowed_by_both() {
    let v = validator();
    let mut s = settled_sample();
    s["new_field"] = json!({"x": 1});
    s["payment"]["extra"] = "y".into();
    assert!(v.is_valid(&s));
    assert!(Event::from_slice(s.to_string().as_bytes()).is_ok());
}

#[test]
fn invalid_samples_are_refused_by_both() {
    let v = validator();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut s = settled_sample();
    s["payment"]["amount"] = json!(12.5);
    cases.push(("float amount", s));
    let mut s = settled_sample();
    s["payment"]["amount"] = "-1.00".into();
    cases.push(("negative amount", s));
    let mut s = settled_sample();
    s["payment"]["amount"] = "0.00".into();
    cases.push(("zero amount", s));
    let mut s = settled_sample();
    s.as_object_mut().unwrap().remove("sequence");
    cases.push(("missing sequence", s));
    let mut s = settled_sample();
    s["sequence"] = 0.into();
    cases.push(("sequence 0", s));
    let mut s = settled_sample();
    s["type"] = "payment.voided".into();
    cases.push(("unknown type", s));
    let mut s = settled_sample();
    s["schema"] = "till.event/9".into();
    cases.push(("other schema", s));
    let mut s = settled_sample();
    s["payment"] = Value::Null;
    cases.push(("settled without payment", s));
    let mut s = refunded_sample();
    s["refund"] = Value::Null;
    cases.push(("refund missing", s));
    let mut s = settled_sample();
    s["occurred_at"] = "2026-11-22T10:15:00".into();
    cases.push(("time without offset", s));
    let mut s = settled_sample();
    s["payment"]["currency"] = "Taka".into();
    cases.push(("bad currency", s));
    let mut s = settled_sample();
    s["terminal_id"] = "shop 1".into();
    cases.push(("bad terminal id", s));
    let mut s = closed_sample();
    s.as_object_mut().unwrap().remove("day");
    cases.push(("day.closed without day", s));
    let v3_schema = validator_v3();
    for (what, doc) in cases {
        assert!(!v.is_valid(&doc), "schema accepted {what}");
        assert!(
            Event::from_slice(doc.to_string().as_bytes()).is_err(),
            "serde accepted {what}"
        );
        // The same fault in a version 3 event.
        let mut now = v3(doc);
        if what == "other schema" {
            now["schema"] = "till.event/9".into();
        }
        assert!(!v3_schema.is_valid(&now), "v3 schema accepted {what}");
        assert!(
            Event::from_slice(now.to_string().as_bytes()).is_err(),
            "serde accepted {what} in version 3"
        );
    }
}
