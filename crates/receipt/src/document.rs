//! What is printed: a payment [`Receipt`] or an X/Z [`Report`]. Every string
//! arrives translated and formatted (dates, amounts with their currency sign):
//! this crate lays out words, it does not choose them.

/// A payment or refund receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub shop_name: String,
    pub address_line: String,
    /// The terminal's name or id, printed after [`Labels::terminal`].
    pub terminal: String,
    /// Local date and time, already formatted: the caller knows the shop's
    /// time zone and language, this crate does not.
    pub when: String,
    /// The amount with its currency sign, e.g. "৳ 1,250.50", "៛ 40,000", "$ 12.50".
    pub amount: String,
    pub wallet: String,
    /// The provider's name for its reference ("trxID", "Bakong hash"…).
    pub reference_label: String,
    /// The provider's reference; also printed as a QR code.
    pub reference: String,
    /// Our invoice number.
    pub invoice: String,
    /// "Paid", "Refunded", or the words in the receipt's language.
    pub status: String,
    /// A reprint: marked with [`Labels::copy`] at the top and bottom.
    pub copy: bool,
    pub kind: Kind,
    pub labels: Labels,
}

/// Sale or refund: a refund receipt has its status on a black band, so that
/// it is not mistaken for proof of payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Sale,
    Refund,
}

/// The fixed words of a receipt, in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub terminal: String,
    pub wallet: String,
    pub invoice: String,
    /// The reprint marker, e.g. "COPY".
    pub copy: String,
}

/// An X or Z report: a title, then label/value lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub title: String,
    /// Lines under the title, before the figures (shop, terminal, period).
    pub heading: Vec<String>,
    pub lines: Vec<ReportLine>,
}

/// One line of a report. An empty label and value print a separator rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub label: String,
    pub value: String,
}

impl ReportLine {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        ReportLine {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// Anything the crate prints, borrowed: rendering reads, it keeps nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document<'a> {
    Receipt(&'a Receipt),
    Report(&'a Report),
}

impl<'a> From<&'a Receipt> for Document<'a> {
    fn from(r: &'a Receipt) -> Self {
        Document::Receipt(r)
    }
}

impl<'a> From<&'a Report> for Document<'a> {
    fn from(r: &'a Report) -> Self {
        Document::Report(r)
    }
}
