//! Criterion benchmarks: encode (+MD5), decode, verify, PNG (512 px) and
//! SVG (512 px) rendering of a typical dynamic USD code.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use khqr::{decode, encode, render_png, render_svg, verify, Currency, KhqrRequest};
use rust_decimal::Decimal;

const CLOCK: u64 = 1_735_689_600_000;

fn request() -> KhqrRequest {
    KhqrRequest {
        amount: Some(Decimal::new(250, 2)),
        currency: Currency::Usd,
        expiration_ms: Some(CLOCK + 600_000),
        bill_number: Some("INV-0001".into()),
        ..KhqrRequest::individual("dara_kim@wing", "Dara Kim", "Siem Reap")
    }
}

fn benches(c: &mut Criterion) {
    let req = request();
    let qr = encode(&req, CLOCK).unwrap().qr;
    c.bench_function("encode+md5", |b| {
        b.iter(|| encode(black_box(&req), black_box(CLOCK)).unwrap())
    });
    c.bench_function("decode", |b| b.iter(|| decode(black_box(&qr))));
    c.bench_function("verify", |b| {
        b.iter(|| verify(black_box(&qr), black_box(CLOCK)).unwrap())
    });
    c.bench_function("render_png_512", |b| {
        b.iter(|| render_png(black_box(&qr), 512).unwrap())
    });
    c.bench_function("render_svg_512", |b| {
        b.iter(|| render_svg(black_box(&qr), 512).unwrap())
    });
}

criterion_group!(khqr_benches, benches);
criterion_main!(khqr_benches);
