//! Every rendered symbol is read back by real QR decoders: `rqrr` always,
//! `zbarimg` (zbar-tools) when installed — required when `CI` is set.

mod common;

use std::process::Command;

use khqr::{render_png, render_svg, render_svg_fluid};

/// All vector strings plus a few Khmer-heavy codes.
fn samples() -> Vec<String> {
    let v = common::load();
    let mut out: Vec<String> = v.valid.iter().map(|v| v.qr.clone()).collect();
    let mut req = khqr::KhqrRequest::individual("sokha@wing", "សុខា ហាងកាហ្វេ", "ភ្នំពេញ");
    req.language_preference = Some("km".into());
    req.merchant_name_alternate_language = Some("ហាងកាហ្វេ សុខា".into());
    req.merchant_city_alternate_language = Some("សៀមរាប".into());
    req.store_label = Some("សាខា ១".into());
    out.push(khqr::encode(&req, 1_735_689_600_000).unwrap().qr);
    out
}

fn decode_grey(width: usize, height: usize, pixels: &[u8]) -> String {
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one symbol");
    let (_, content) = grids[0].decode().expect("rqrr decodes the symbol");
    content
}

fn png_pixels(png: &[u8]) -> (usize, usize, Vec<u8>) {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("valid PNG")
        .to_luma8();
    (img.width() as usize, img.height() as usize, img.into_raw())
}

#[test]
fn png_reads_back_with_rqrr() {
    for qr in samples() {
        let png = render_png(&qr, 512).unwrap();
        let (w, h, px) = png_pixels(&png);
        assert_eq!(w, h);
        assert!(w >= 512, "at least the requested size");
        let (edge, _) = khqr::render::matrix(&qr).unwrap();
        assert!(w.is_multiple_of(edge), "whole pixels per module");
        // Quiet zone: the 4-module border is white.
        let m = w / edge;
        assert!(px[..w * 4 * m].iter().all(|&p| p == 255), "top quiet zone");
        assert_eq!(decode_grey(w, h, &px), qr);
    }
}

#[test]
fn small_sizes_round_up() {
    let qr = &samples()[0];
    let (edge, _) = khqr::render::matrix(qr).unwrap();
    for size in [0, 1, 50, 200] {
        let (w, _, px) = png_pixels(&render_png(qr, size).unwrap());
        assert!(w >= size as usize && w.is_multiple_of(edge));
        // rqrr needs a few pixels per module: enlarge 1-px modules (nearest
        // neighbour) before reading back.
        let k = 4;
        let big: Vec<u8> = (0..w * k)
            .flat_map(|y| (0..w * k).map(move |x| (x, y)))
            .map(|(x, y)| px[(y / k) * w + x / k])
            .collect();
        assert_eq!(decode_grey(w * k, w * k, &big), *qr);
    }
    assert!(render_png(qr, 100_000).is_err());
}

/// Rasterises our own SVG path (`M x,y h n v1 h-n z` runs) and decodes it.
fn svg_to_grid(svg: &str) -> (usize, Vec<u8>) {
    let vb = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let edge: usize = vb.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let scale = 4;
    let px = edge * scale;
    let mut grid = vec![255u8; px * px];
    for seg in d.split('M').filter(|s| !s.is_empty()) {
        let (xy, rest) = seg.split_once('h').unwrap();
        let (x, y) = xy.split_once(',').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let n: usize = rest.split('v').next().unwrap().parse().unwrap();
        for yy in y * scale..(y + 1) * scale {
            for xx in x * scale..(x + n) * scale {
                grid[yy * px + xx] = 0;
            }
        }
    }
    (px, grid)
}

#[test]
fn svg_is_self_contained_crisp_and_reads_back() {
    for qr in samples() {
        let svg = render_svg(&qr, 300).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(!svg.contains("<?xml"));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert!(svg.contains("viewBox=\"0 0 "));
        let (edge, _) = khqr::render::matrix(&qr).unwrap();
        let width: usize = svg
            .split("width=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(width >= 300 && width.is_multiple_of(edge));
        let (px, grid) = svg_to_grid(&svg);
        assert_eq!(decode_grey(px, px, &grid), qr);
        let fluid = render_svg_fluid(&qr).unwrap();
        assert!(fluid.contains("width=\"100%\" height=\"100%\""));
    }
}

#[test]
fn png_reads_back_with_zbarimg() {
    let available = Command::new("zbarimg").arg("--version").output().is_ok();
    if !available {
        if std::env::var_os("CI").is_some() {
            panic!("zbarimg (Debian package zbar-tools) is required when CI is set");
        }
        eprintln!(
            "note: zbarimg not installed (apt-get install zbar-tools); skipping the zbar read-back"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("khqr-zbar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, qr) in samples().iter().enumerate() {
        let path = dir.join(format!("{i}.png"));
        std::fs::write(&path, render_png(qr, 400).unwrap()).unwrap();
        // Both as raw bytes and as zbar's own text interpretation (what a
        // phone scanner does): Khmer must come back as Khmer.
        for args in [&["--raw", "-q", "-Sbinary"][..], &["--raw", "-q"][..]] {
            let out = Command::new("zbarimg")
                .args(args)
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "zbarimg {args:?} failed on {qr}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).expect("zbar output is UTF-8");
            assert_eq!(
                text.trim_end_matches('\n'),
                qr,
                "zbarimg {args:?} read-back"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
