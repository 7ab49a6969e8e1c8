//! End to end: documents rendered, encoded, sent to a virtual network printer
//! on loopback, and the bytes it received decoded back by a third-party
//! ESC/POS decoder (npm `npos`, in `tests/escpos-render/`) and a QR reader
//! (`zbarimg`). Both are installed by `scripts/setup.sh test`; without them
//! these tests fail, they do not skip.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use till_receipt::{
    escpos, render, render_with, Bitmap, Document, Kind, Labels, PrintError, Printer, Receipt,
    Report, ReportLine, Shaping, Status, Width,
};

/// What the virtual printer answers to `DLE EOT 4`.
#[derive(Clone, Copy)]
enum Answer {
    Byte(u8),
    Silent,
}

/// A raw-TCP printer on 127.0.0.1: answers a status query that opens a
/// connection, stores every other byte, one `Vec` per connection.
struct VirtualPrinter {
    addr: SocketAddr,
    jobs: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl VirtualPrinter {
    fn start(answer: Answer) -> VirtualPrinter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let jobs = Arc::new(Mutex::new(Vec::new()));
        let store = jobs.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let store = store.clone();
                std::thread::spawn(move || {
                    stream
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    let mut received = Vec::new();
                    let mut answered = false;
                    let mut buf = [0u8; 8192];
                    loop {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => received.extend_from_slice(&buf[..n]),
                        }
                        if !answered && received.starts_with(&till_receipt::printer::STATUS_QUERY) {
                            answered = true;
                            received.drain(..3);
                            if let Answer::Byte(b) = answer {
                                stream.write_all(&[b]).unwrap();
                            }
                        }
                    }
                    store.lock().unwrap().push(received);
                });
            }
        });
        VirtualPrinter { addr, jobs }
    }

    /// The bytes of the connections closed so far that carried more than a query.
    fn printed(&self) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let jobs: Vec<Vec<u8>> = self
                .jobs
                .lock()
                .unwrap()
                .iter()
                .filter(|j| !j.is_empty())
                .cloned()
                .collect();
            if !jobs.is_empty() || Instant::now() > deadline {
                return jobs;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-output/receipts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("`{name}` is not installed: run scripts/setup.sh test"))
}

/// Decodes ESC/POS `bytes` with npos to `NAME.png`; returns the PNG's path.
fn decode_with_npos(bytes: &[u8], name: &str) -> PathBuf {
    let node = tool("node");
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/escpos-render");
    assert!(
        script_dir.join("node_modules/npos").is_dir(),
        "the ESC/POS decoder is not installed in {}: run scripts/setup.sh test",
        script_dir.display()
    );
    let dir = out_dir();
    let bin = dir.join(format!("{name}.bin"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&bin, bytes).unwrap();
    let _ = std::fs::remove_file(&png);
    let out = Command::new(node)
        .arg(script_dir.join("render.js"))
        .arg(&bin)
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "npos failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    png
}

/// A PNG read back as dots (dark = ink).
fn read_png(path: &Path) -> Bitmap {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let mut bitmap = Bitmap::new(info.width, info.height);
    for y in 0..info.height {
        for x in 0..info.width {
            let i = (y as usize * info.width as usize + x as usize) * channels;
            bitmap.set(x as i64, y as i64, buf[i] < 128);
        }
    }
    bitmap
}

fn zbarimg(png: &Path) -> String {
    let out = Command::new(tool("zbarimg"))
        .args(["--raw", "-q"])
        .arg(png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zbarimg found no code in {}",
        png.display()
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn english() -> Labels {
    Labels {
        terminal: "Terminal".into(),
        wallet: "Wallet".into(),
        invoice: "Invoice".into(),
        copy: "COPY".into(),
    }
}

fn bkash_receipt() -> Receipt {
    Receipt {
        shop_name: "Dhaka Tea House".into(),
        address_line: "12 Road 5, Dhanmondi, Dhaka".into(),
        terminal: "T1".into(),
        when: "2026-12-03 13:05".into(),
        amount: "৳ 1,250.50".into(),
        wallet: "bKash".into(),
        reference_label: "trxID".into(),
        reference: "BKA7X9Q2M4".into(),
        invoice: "INV-0042".into(),
        status: "Paid".into(),
        copy: false,
        kind: Kind::Sale,
        labels: english(),
    }
}

fn bangla_receipt() -> Receipt {
    Receipt {
        // Conjuncts (ষ্ট, ন্ড) and pre-base vowel signs (ি, ে): what shaping is for.
        shop_name: "মিষ্টি মুখ".into(),
        address_line: "রোড ৫, ধানমন্ডি, ঢাকা".into(),
        when: "৩ ডিসেম্বর ২০২৬, ১:০৫".into(),
        status: "পরিশোধিত".into(),
        labels: Labels {
            terminal: "টার্মিনাল".into(),
            wallet: "ওয়ালেট".into(),
            invoice: "ইনভয়েস".into(),
            copy: "কপি".into(),
        },
        ..bkash_receipt()
    }
}

fn khmer_receipt() -> Receipt {
    Receipt {
        shop_name: "ហាងកាហ្វេភ្នំពេញ".into(),
        address_line: "ផ្លូវ ២៧១ ភ្នំពេញ".into(),
        when: "០៣ ធ្នូ ២០២៦ ១៣:០៥".into(),
        amount: "៛ 40,000".into(),
        wallet: "Bakong".into(),
        reference_label: "Bakong hash".into(),
        reference: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        status: "បានបង់ប្រាក់".into(),
        labels: Labels {
            terminal: "ម៉ាស៊ីន".into(),
            wallet: "កាបូប".into(),
            invoice: "វិក្កយបត្រ".into(),
            copy: "ច្បាប់ចម្លង".into(),
        },
        ..bkash_receipt()
    }
}

/// Prints `doc` to a virtual printer, decodes what it received with npos;
/// asserts the decoded image is our bitmap dot for dot. Returns the bitmap
/// and the PNG.
fn print_and_decode(doc: Document<'_>, width: Width, name: &str) -> (Bitmap, PathBuf) {
    let started = Instant::now();
    let bitmap = render(doc, width);
    let bytes = escpos::encode(&bitmap);
    let elapsed = started.elapsed();
    eprintln!(
        "{name}: render+encode {:.1} ms, {} bytes, {}x{} dots",
        elapsed.as_secs_f64() * 1000.0,
        bytes.len(),
        bitmap.width(),
        bitmap.height()
    );
    let printer = VirtualPrinter::start(Answer::Byte(0x12));
    Printer::network(printer.addr).print(&bytes).unwrap();
    let jobs = printer.printed();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0], bytes,
        "the printer received other bytes than were sent"
    );
    let png = decode_with_npos(&jobs[0], name);
    let decoded = read_png(&png);
    assert_eq!(
        (decoded.width(), decoded.height()),
        (bitmap.width(), bitmap.height())
    );
    assert!(
        decoded == bitmap,
        "npos decodes another image than the one rendered"
    );
    (bitmap, png)
}

#[test]
fn sale_receipt_prints_and_its_qr_decodes_to_the_reference() {
    for width in [Width::Mm58, Width::Mm80] {
        let r = bkash_receipt();
        let name = format!("sale-bkash-{}", width.dots());
        let (bitmap, png) = print_and_decode(Document::Receipt(&r), width, &name);
        assert_eq!(bitmap.width(), width.dots());
        assert_eq!(zbarimg(&png), r.reference);
    }
}

#[test]
fn bakong_hash_qr_decodes_on_58mm() {
    let r = khmer_receipt();
    let (_, png) = print_and_decode(Document::Receipt(&r), Width::Mm58, "sale-khmer-58");
    assert_eq!(zbarimg(&png), r.reference);
}

#[test]
fn bangla_and_khmer_text_has_ink_and_is_shaped() {
    for (name, r) in [("bangla", bangla_receipt()), ("khmer", khmer_receipt())] {
        let doc = Document::Receipt(&r);
        let (shaped, _) = print_and_decode(doc, Width::Mm80, &format!("sale-{name}-80"));
        // The shop name is the first text: its rows must have ink.
        assert!(
            shaped.ink_in_rows(0..40) > 200,
            "{name}: no ink in the title rows"
        );
        let plain = render_with(doc, Width::Mm80, Shaping::None);
        let png = decode_with_npos(&escpos::encode(&plain), &format!("sale-{name}-80-unshaped"));
        assert!(read_png(&png) == plain);
        assert!(plain != shaped, "{name}: shaping changed nothing");
        let differing = (0..40)
            .flat_map(|y| (0..576).map(move |x| (x, y)))
            .filter(|&(x, y)| plain.get(x, y) != shaped.get(x, y))
            .count();
        assert!(
            differing > 100,
            "{name}: shaped and unshaped titles differ by only {differing} dots"
        );
    }
}

#[test]
fn copy_and_refund_are_marked() {
    let sale = render(Document::Receipt(&bkash_receipt()), Width::Mm58);
    let copy = Receipt {
        copy: true,
        ..bkash_receipt()
    };
    let (copy_bitmap, _) =
        print_and_decode(Document::Receipt(&copy), Width::Mm58, "sale-bkash-58-copy");
    // Two black COPY bands add rows and a lot of ink.
    assert!(copy_bitmap.height() > sale.height());
    let ink = |b: &Bitmap| b.ink_in_rows(0..b.height());
    assert!(ink(&copy_bitmap) > ink(&sale) + 2 * 384 * 20);
    let refund = Receipt {
        kind: Kind::Refund,
        status: "Refunded".into(),
        ..bkash_receipt()
    };
    let (refund_bitmap, png) =
        print_and_decode(Document::Receipt(&refund), Width::Mm58, "refund-bkash-58");
    assert!(ink(&refund_bitmap) > ink(&sale) + 384 * 30);
    assert_eq!(zbarimg(&png), "BKA7X9Q2M4");
}

#[test]
fn report_prints() {
    let report = Report {
        title: "Z report".into(),
        heading: vec!["Dhaka Tea House · T1".into(), "2026-12-03".into()],
        lines: vec![
            ReportLine::new("bKash", "৳ 12,400.00"),
            ReportLine::new("Nagad", "৳ 3,150.00"),
            ReportLine::new("", ""),
            ReportLine::new("Total", "৳ 15,550.00"),
        ],
    };
    let (bitmap, _) = print_and_decode(Document::Report(&report), Width::Mm80, "report-z-80");
    assert!(bitmap.ink_in_rows(0..bitmap.height()) > 1000);
}

#[test]
fn paper_out_is_refused_before_sending() {
    let printer = VirtualPrinter::start(Answer::Byte(0x72));
    let bytes = escpos::encode(&render(Document::Receipt(&bkash_receipt()), Width::Mm58));
    let p = Printer::network(printer.addr);
    assert_eq!(p.status().unwrap(), Status::PaperOut);
    let err = p.print(&bytes).unwrap_err();
    assert!(matches!(err, PrintError::PaperOut), "{err:?}");
    assert_eq!(err.code(), "printer.paper_out");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        printer.jobs.lock().unwrap().iter().all(|j| j.is_empty()),
        "bytes were sent to a printer without paper"
    );
}

#[test]
fn a_printer_that_does_not_answer_status_still_prints() {
    let printer = VirtualPrinter::start(Answer::Silent);
    let p = Printer::network(printer.addr);
    let started = Instant::now();
    assert_eq!(p.status().unwrap(), Status::Unknown);
    assert!(started.elapsed() < p.status_timeout + Duration::from_secs(1));
    let bytes = escpos::encode(&render(Document::Receipt(&bkash_receipt()), Width::Mm58));
    p.print(&bytes).unwrap();
    assert_eq!(printer.printed(), vec![bytes]);
}

#[test]
fn a_closed_port_is_no_answer_within_the_timeout() {
    // A port that was just ours and is now closed: refused on loopback.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = Printer::network(addr);
    let started = Instant::now();
    let err = p.print(b"\x1b@").unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        PrintError::NoAnswer { addr: a, .. } => assert_eq!(*a, addr),
        other => panic!("expected NoAnswer, got {other:?}"),
    }
    assert!(elapsed < p.connect_timeout, "took {elapsed:?}");
    assert_eq!(
        err.to_string(),
        format!("Printer at {addr} does not answer")
    );
}

#[test]
fn device_file_gets_the_bytes_and_a_missing_device_is_typed() {
    let dir = out_dir();
    let path = dir.join("lp0");
    std::fs::write(&path, b"").unwrap();
    let bytes = escpos::encode(&render(Document::Receipt(&bkash_receipt()), Width::Mm58));
    let p = Printer::device(&path);
    // A plain file never answers the status query: Unknown, and it prints.
    assert_eq!(p.status().unwrap(), Status::Unknown);
    std::fs::write(&path, b"").unwrap();
    p.print(&bytes).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(&written[..3], &till_receipt::printer::STATUS_QUERY);
    assert_eq!(&written[3..], &bytes[..]);
    let missing = dir.join("no-such-lp");
    match Printer::device(&missing).print(&bytes).unwrap_err() {
        PrintError::Device { path, .. } => assert_eq!(path, missing),
        other => panic!("expected Device, got {other:?}"),
    }
}

#[test]
fn a_printer_that_stops_taking_bytes_times_out_instead_of_hanging() {
    // Answers the status query, then never reads again: once the socket
    // buffers are full, writes block, and the write timeout must end them.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut query = [0u8; 3];
        stream.read_exact(&mut query).unwrap();
        stream.write_all(&[0x12]).unwrap();
        // Hold the connection open, unread, until the test is done.
        let _ = done_rx.recv_timeout(Duration::from_secs(30));
    });
    let mut p = Printer::network(addr);
    p.write_timeout = Duration::from_millis(300);
    // Far more than loopback socket buffers hold.
    let bytes = vec![0u8; 64 << 20];
    let started = Instant::now();
    let err = p.print(&bytes).unwrap_err();
    let elapsed = started.elapsed();
    drop(done_tx);
    match &err {
        PrintError::Io(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e:?}"
        ),
        other => panic!("expected Io, got {other:?}"),
    }
    assert_eq!(err.code(), "printer.io");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}
