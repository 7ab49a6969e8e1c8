//! The office's words in English, Bangla and Khmer. One [`Words`] per
//! language, so a missing translation does not compile; sentences with
//! numbers or names are templates (`{n}`, `{t}`…) filled by [`Words`]'
//! methods. A user's language is theirs (`till-hub user add --language`, or
//! the buttons at the foot of every page); without one, the browser's
//! `Accept-Language` decides.

use super::model::Role;
use axum::http::{header, HeaderMap};

/// A language of the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Bn,
    Km,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Bn, Lang::Km];

    /// The BCP 47 primary tag.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Bn => "bn",
            Lang::Km => "km",
        }
    }

    /// The language's own name for itself.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Bn => "বাংলা",
            Lang::Km => "ខ្មែរ",
        }
    }

    /// `en`, `bn`, `km` (or a tag starting with one: `bn-BD`).
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The browser's first choice among ours (English when it names none).
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(accept_language::parse)
            .unwrap_or_default()
            .iter()
            .find_map(|tag| Lang::from_code(tag))
            .unwrap_or(Lang::En)
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Bn => &BN,
            Lang::Km => &KM,
        }
    }
}

/// Every word of the office in one language.
pub struct Words {
    pub app_name: &'static str,
    pub nav_today: &'static str,
    pub nav_terminals: &'static str,
    pub nav_days: &'static str,
    pub nav_search: &'static str,
    pub nav_admin: &'static str,
    pub sign_out: &'static str,
    pub role_read: &'static str,
    pub role_admin: &'static str,
    // Sign-in.
    pub sign_in_title: &'static str,
    pub sign_in: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub wrong_password: &'static str,
    pub t_locked: &'static str,
    pub user_disabled: &'static str,
    pub session_ended: &'static str,
    pub signed_out: &'static str,
    // Errors.
    pub csrf_title: &'static str,
    pub csrf_refused: &'static str,
    pub csrf_no_cookie: &'static str,
    pub admins_only_title: &'static str,
    pub admins_only: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub back_to_today: &'static str,
    // Figures.
    pub today: &'static str,
    pub updated: &'static str,
    pub no_sales: &'static str,
    pub net: &'static str,
    pub settled: &'static str,
    pub refunded: &'static str,
    pub payments: &'static str,
    pub refunds: &'static str,
    pub refund: &'static str,
    pub wallet: &'static str,
    pub currency: &'static str,
    pub amount: &'static str,
    pub by_wallet: &'static str,
    pub per_hour: &'static str,
    pub chart_partial: &'static str,
    pub matches: &'static str,
    pub differs: &'static str,
    // Terminals.
    pub terminals: &'static str,
    pub terminal: &'static str,
    pub no_terminals: &'static str,
    pub no_such_terminal: &'static str,
    pub status: &'static str,
    pub active: &'static str,
    pub disabled: &'static str,
    pub last_seen: &'static str,
    pub never: &'static str,
    pub just_now: &'static str,
    pub t_minutes_ago: &'static str,
    pub t_hours_ago: &'static str,
    pub t_days_ago: &'static str,
    pub events: &'static str,
    pub events_lc: &'static str,
    pub sequence: &'static str,
    pub in_sequence: &'static str,
    pub missing: &'static str,
    pub contiguous_to: &'static str,
    pub highest: &'static str,
    pub z_report: &'static str,
    pub z_report_today: &'static str,
    pub z_reports: &'static str,
    pub last_z_report: &'static str,
    pub no_z_report: &'static str,
    pub closed_matches: &'static str,
    pub closed_differs: &'static str,
    pub not_closed: &'static str,
    pub closed_at: &'static str,
    pub closed_by: &'static str,
    pub received: &'static str,
    pub hub_holds: &'static str,
    pub difference: &'static str,
    pub recent_days: &'static str,
    pub no_days: &'static str,
    pub payee_changed: &'static str,
    pub payee_changed_hint: &'static str,
    pub chain_broken: &'static str,
    pub chain_broken_hint: &'static str,
    // Days.
    pub day: &'static str,
    pub previous_day: &'static str,
    pub next_day: &'static str,
    pub show: &'static str,
    pub bad_day: &'static str,
    pub t_day_summary: &'static str,
    pub no_activity: &'static str,
    pub differences_of: &'static str,
    pub all_terminals: &'static str,
    pub provider_evidence: &'static str,
    pub no_evidence: &'static str,
    pub evidence_notifications: &'static str,
    pub evidence_hub_check: &'static str,
    pub evidence_confirmed: &'static str,
    pub evidence_not_confirmed: &'static str,
    pub evidence_no_settlement: &'static str,
    pub evidence_differs: &'static str,
    pub checked: &'static str,
    pub reference: &'static str,
    // Search.
    pub search_title: &'static str,
    pub search_text: &'static str,
    pub search_placeholder: &'static str,
    pub search: &'static str,
    pub all: &'static str,
    pub bad_search_text: &'static str,
    pub bad_amount: &'static str,
    pub bad_terminal: &'static str,
    pub t_results: &'static str,
    pub t_results_more: &'static str,
    pub showing_today: &'static str,
    pub nothing_found: &'static str,
    pub download_csv: &'static str,
    pub more: &'static str,
    pub time: &'static str,
    pub invoice: &'static str,
    pub references: &'static str,
    pub payment_id: &'static str,
    // Admin.
    pub admin_title: &'static str,
    pub add_terminal: &'static str,
    pub terminal_id: &'static str,
    pub name: &'static str,
    pub add: &'static str,
    pub key: &'static str,
    pub kind: &'static str,
    pub created: &'static str,
    pub public_key: &'static str,
    pub retired: &'static str,
    pub key_generate: &'static str,
    pub key_public: &'static str,
    pub key_hmac: &'static str,
    pub rotate: &'static str,
    pub retire: &'static str,
    pub retire_which: &'static str,
    pub all_but_newest: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub confirm_retire: &'static str,
    pub confirm_disable: &'static str,
    pub terminal_added_title: &'static str,
    pub key_rotated_title: &'static str,
    pub t_key_added: &'static str,
    pub t_shown_once: &'static str,
    pub after_rotation: &'static str,
    pub public_key_kept: &'static str,
    pub copy: &'static str,
    pub back_to_terminals: &'static str,
    pub t_done_retired: &'static str,
    pub t_done_disabled: &'static str,
    pub t_done_enabled: &'static str,
    pub err_invalid_id: &'static str,
    pub err_terminal_exists: &'static str,
    pub err_unknown_terminal: &'static str,
    pub err_no_such_key: &'static str,
    pub err_last_key: &'static str,
    pub err_bad_public_key: &'static str,
    pub err_no_secret_key: &'static str,
    // Wallets (a name the events use that is not here is shown as it is).
    pub wallet_bkash: &'static str,
    pub wallet_bakong: &'static str,
    pub wallet_nagad: &'static str,
    pub wallet_demo: &'static str,
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

impl Words {
    pub fn role(&self, r: Role) -> &'static str {
        match r {
            Role::Read => self.role_read,
            Role::Admin => self.role_admin,
        }
    }

    /// A wallet's name as people know it.
    pub fn wallet_name<'a>(&self, provider: &'a str) -> &'a str {
        match provider {
            "bkash" => self.wallet_bkash,
            "bakong" => self.wallet_bakong,
            "nagad" => self.wallet_nagad,
            "demo" => self.wallet_demo,
            other => other,
        }
    }

    pub fn locked(&self, until: &str, minutes: i64) -> String {
        fill(
            self.t_locked,
            &[("until", until), ("n", &minutes.to_string())],
        )
    }
    pub fn minutes_ago(&self, n: i64) -> String {
        fill(self.t_minutes_ago, &[("n", &n.to_string())])
    }
    pub fn hours_ago(&self, n: i64) -> String {
        fill(self.t_hours_ago, &[("n", &n.to_string())])
    }
    pub fn days_ago(&self, n: i64) -> String {
        fill(self.t_days_ago, &[("n", &n.to_string())])
    }
    pub fn day_summary(&self, closed: usize, active: usize, differ: usize) -> String {
        fill(
            self.t_day_summary,
            &[
                ("closed", &closed.to_string()),
                ("active", &active.to_string()),
                ("differ", &differ.to_string()),
            ],
        )
    }
    pub fn results(&self, n: usize, more: bool) -> String {
        let t = if more {
            self.t_results_more
        } else {
            self.t_results
        };
        fill(t, &[("n", &n.to_string())])
    }
    pub fn key_added(&self, terminal: &str, key_id: i64) -> String {
        fill(
            self.t_key_added,
            &[("t", terminal), ("k", &key_id.to_string())],
        )
    }
    pub fn shown_once(&self, setting: &str) -> String {
        fill(self.t_shown_once, &[("setting", setting)])
    }
    pub fn done_retired(&self, t: &str) -> String {
        fill(self.t_done_retired, &[("t", t)])
    }
    pub fn done_disabled(&self, t: &str) -> String {
        fill(self.t_done_disabled, &[("t", t)])
    }
    pub fn done_enabled(&self, t: &str) -> String {
        fill(self.t_done_enabled, &[("t", t)])
    }
}

pub static EN: Words = Words {
    app_name: "Till office",
    nav_today: "Today",
    nav_terminals: "Terminals",
    nav_days: "Days",
    nav_search: "Search",
    nav_admin: "Terminals & keys",
    sign_out: "Sign out",
    role_read: "read only",
    role_admin: "admin",
    sign_in_title: "Sign in to the office",
    sign_in: "Sign in",
    username: "User name",
    password: "Password",
    wrong_password: "Wrong user name or password.",
    t_locked: "Too many wrong passwords: this user cannot sign in until {until} (about {n} min). Try again then, or ask an admin to set a new password.",
    user_disabled: "This user is disabled. Ask an admin to enable it.",
    session_ended: "Your session ended. Sign in again.",
    signed_out: "You are signed out.",
    csrf_title: "This form was refused",
    csrf_refused: "It did not come from a page of this office, or the page was too old. Go back, reload the page and try again.",
    csrf_no_cookie: "Your browser did not keep the sign-in page's cookie, so this sign-in cannot be trusted. The office needs HTTPS (or this computer's own address, localhost): open it with https:// and allow its cookies.",
    admins_only_title: "For admins only",
    admins_only: "Your user may read the office but not change terminals or keys.",
    unavailable_title: "The office is unavailable",
    unavailable: "The hub cannot reach its database just now. Try again in a minute.",
    not_found_title: "Not found",
    not_found: "There is no such page.",
    back_to_today: "Back to today",
    today: "Today",
    updated: "Updated",
    no_sales: "No settlements yet.",
    net: "Net",
    settled: "Settled",
    refunded: "Refunded",
    payments: "Payments",
    refunds: "Refunds",
    refund: "Refund",
    wallet: "Wallet",
    currency: "Currency",
    amount: "Amount",
    by_wallet: "By wallet",
    per_hour: "Net per hour",
    chart_partial: "The chart shows the first 50,000 events of the day only.",
    matches: "matches",
    differs: "differs",
    terminals: "Terminals",
    terminal: "Terminal",
    no_terminals: "No terminal is registered yet.",
    no_such_terminal: "No terminal has that id.",
    status: "Status",
    active: "active",
    disabled: "disabled",
    last_seen: "Last seen",
    never: "never",
    just_now: "just now",
    t_minutes_ago: "{n} min ago",
    t_hours_ago: "{n} h ago",
    t_days_ago: "{n} days ago",
    events: "Events",
    events_lc: "events",
    sequence: "Sequence",
    in_sequence: "nothing missing",
    missing: "missing",
    contiguous_to: "complete up to",
    highest: "highest",
    z_report: "Z-report",
    z_report_today: "Today's Z-report",
    z_reports: "Z-reports received",
    last_z_report: "Last Z-report",
    no_z_report: "No Z-report in the last days with activity.",
    closed_matches: "closed, totals match",
    closed_differs: "closed, totals differ",
    not_closed: "not closed",
    closed_at: "Closed at",
    closed_by: "Closed by",
    received: "Received",
    hub_holds: "Hub holds",
    difference: "Difference",
    recent_days: "Recent days",
    no_days: "No days with activity.",
    payee_changed: "payee changed",
    payee_changed_hint: "The account this terminal's payments go to changed (see the read API's payee_changes).",
    chain_broken: "audit chain broken",
    chain_broken_hint: "A head of the terminal's audit chain did not extend the one the hub held.",
    day: "Day",
    previous_day: "Previous day",
    next_day: "Next day",
    show: "Show",
    bad_day: "That is not a date (YYYY-MM-DD); showing today.",
    t_day_summary: "{closed} of {active} terminals with activity closed the day; {differ} differ from what the hub holds.",
    no_activity: "No terminal had activity on this day.",
    differences_of: "Differences:",
    all_terminals: "All terminals",
    provider_evidence: "Provider evidence",
    no_evidence: "No provider checks are set up on this hub yet: these figures are the terminals' own.",
    evidence_notifications: "notifications the provider sent",
    evidence_hub_check: "checked by the hub",
    evidence_confirmed: "settlements confirmed",
    evidence_not_confirmed: "not confirmed by the provider",
    evidence_no_settlement: "paid, but no terminal has the sale",
    evidence_differs: "amount or account differs",
    checked: "checked",
    reference: "Reference",
    search_title: "Search settlements",
    search_text: "Invoice, trxID, MD5, hash or payment id",
    search_placeholder: "e.g. till-01-000042 or 8N7A…",
    search: "Search",
    all: "All",
    bad_search_text: "The search text is too long or holds line breaks.",
    bad_amount: "The amount is not a number (e.g. 1250.50).",
    bad_terminal: "That is not a terminal id.",
    t_results: "{n} found",
    t_results_more: "first {n} shown",
    showing_today: "today's, as nothing was asked",
    nothing_found: "Nothing matches.",
    download_csv: "Download CSV",
    more: "More",
    time: "Time",
    invoice: "Invoice",
    references: "References",
    payment_id: "Payment id",
    admin_title: "Terminals and keys",
    add_terminal: "Add a terminal",
    terminal_id: "Terminal id",
    name: "Name",
    add: "Add",
    key: "Key",
    kind: "Kind",
    created: "Created",
    public_key: "Public key",
    retired: "retired",
    key_generate: "new ed25519 key (the hub keeps only its public half)",
    key_public: "the terminal's own public key",
    key_hmac: "shared HMAC secret",
    rotate: "Add key",
    retire: "Retire",
    retire_which: "Retire",
    all_but_newest: "all but the newest",
    disable: "Disable",
    enable: "Enable",
    confirm_retire: "Retire this key? Requests signed only with it will be refused.",
    confirm_disable: "Disable this terminal? The hub will refuse everything it sends.",
    terminal_added_title: "Terminal added",
    key_rotated_title: "Key added",
    t_key_added: "Terminal {t}: key {k} added.",
    t_shown_once: "Give the terminal this key now, as its secret {setting} (`till secret set {setting}`, or its Settings). It is shown only this once.",
    after_rotation: "The old keys stay valid until you retire them: retire them once the terminal signs with the new one.",
    public_key_kept: "The hub keeps the public key; the private key never left the terminal.",
    copy: "Copy",
    back_to_terminals: "Back to terminals and keys",
    t_done_retired: "Terminal {t}: key(s) retired.",
    t_done_disabled: "Terminal {t} is disabled: the hub refuses what it sends.",
    t_done_enabled: "Terminal {t} is enabled again.",
    err_invalid_id: "A terminal id is 1 to 128 characters of A–Z, a–z, 0–9, _ and -.",
    err_terminal_exists: "A terminal with that id already exists.",
    err_unknown_terminal: "No terminal has that id.",
    err_no_such_key: "That terminal has no such active key.",
    err_last_key: "That is the terminal's only active key: add a key first.",
    err_bad_public_key: "That is not an ed25519 public key (whpk_…).",
    err_no_secret_key: "The hub has no secret key to seal an HMAC secret with: use an ed25519 key, or give the hub its key file (till-hub init).",
    wallet_bkash: "bKash",
    wallet_bakong: "Bakong KHQR",
    wallet_nagad: "Nagad",
    wallet_demo: "Demo",
};

pub static BN: Words = Words {
    app_name: "Till অফিস",
    nav_today: "আজ",
    nav_terminals: "টার্মিনাল",
    nav_days: "দিন",
    nav_search: "খুঁজুন",
    nav_admin: "টার্মিনাল ও কী",
    sign_out: "সাইন আউট",
    role_read: "শুধু দেখার অনুমতি",
    role_admin: "অ্যাডমিন",
    sign_in_title: "অফিসে সাইন ইন করুন",
    sign_in: "সাইন ইন",
    username: "ব্যবহারকারীর নাম",
    password: "পাসওয়ার্ড",
    wrong_password: "ব্যবহারকারীর নাম বা পাসওয়ার্ড ভুল।",
    t_locked: "অনেকবার ভুল পাসওয়ার্ড: এই ব্যবহারকারী {until} পর্যন্ত সাইন ইন করতে পারবেন না (প্রায় {n} মিনিট)। তখন আবার চেষ্টা করুন, অথবা অ্যাডমিনকে নতুন পাসওয়ার্ড দিতে বলুন।",
    user_disabled: "এই ব্যবহারকারী বন্ধ করা আছে। অ্যাডমিনকে চালু করতে বলুন।",
    session_ended: "আপনার সেশন শেষ হয়েছে। আবার সাইন ইন করুন।",
    signed_out: "আপনি সাইন আউট করেছেন।",
    csrf_title: "এই ফর্মটি গ্রহণ করা হয়নি",
    csrf_refused: "এটি এই অফিসের কোনো পাতা থেকে আসেনি, অথবা পাতাটি অনেক পুরোনো। ফিরে যান, পাতাটি আবার লোড করুন এবং আবার চেষ্টা করুন।",
    csrf_no_cookie: "আপনার ব্রাউজার সাইন-ইন পাতার কুকি রাখেনি, তাই এই সাইন-ইন বিশ্বাস করা যায় না। অফিসের জন্য HTTPS দরকার (অথবা এই কম্পিউটারের নিজের ঠিকানা, localhost): https:// দিয়ে খুলুন এবং এর কুকি চালু রাখুন।",
    admins_only_title: "শুধু অ্যাডমিনদের জন্য",
    admins_only: "আপনার ব্যবহারকারী অফিস দেখতে পারেন, কিন্তু টার্মিনাল বা কী বদলাতে পারেন না।",
    unavailable_title: "অফিস এখন পাওয়া যাচ্ছে না",
    unavailable: "হাব এই মুহূর্তে তার ডেটাবেসে পৌঁছাতে পারছে না। এক মিনিট পরে আবার চেষ্টা করুন।",
    not_found_title: "পাওয়া যায়নি",
    not_found: "এমন কোনো পাতা নেই।",
    back_to_today: "আজকের পাতায় ফিরুন",
    today: "আজ",
    updated: "হালনাগাদ",
    no_sales: "এখনও কোনো পরিশোধ নেই।",
    net: "নিট",
    settled: "পরিশোধিত",
    refunded: "ফেরত",
    payments: "পরিশোধ",
    refunds: "ফেরতের সংখ্যা",
    refund: "ফেরত",
    wallet: "ওয়ালেট",
    currency: "মুদ্রা",
    amount: "পরিমাণ",
    by_wallet: "ওয়ালেট অনুযায়ী",
    per_hour: "ঘণ্টাপ্রতি নিট",
    chart_partial: "চার্টে দিনের প্রথম ৫০,০০০টি ঘটনা দেখানো হয়েছে।",
    matches: "মিলেছে",
    differs: "মেলেনি",
    terminals: "টার্মিনাল",
    terminal: "টার্মিনাল",
    no_terminals: "এখনও কোনো টার্মিনাল নিবন্ধিত নেই।",
    no_such_terminal: "এই আইডির কোনো টার্মিনাল নেই।",
    status: "অবস্থা",
    active: "চালু",
    disabled: "বন্ধ",
    last_seen: "শেষ দেখা",
    never: "কখনও না",
    just_now: "এইমাত্র",
    t_minutes_ago: "{n} মিনিট আগে",
    t_hours_ago: "{n} ঘণ্টা আগে",
    t_days_ago: "{n} দিন আগে",
    events: "ঘটনা",
    events_lc: "ঘটনা",
    sequence: "ক্রম",
    in_sequence: "কিছু বাদ নেই",
    missing: "বাদ পড়েছে",
    contiguous_to: "সম্পূর্ণ পর্যন্ত",
    highest: "সর্বোচ্চ",
    z_report: "Z-রিপোর্ট",
    z_report_today: "আজকের Z-রিপোর্ট",
    z_reports: "প্রাপ্ত Z-রিপোর্ট",
    last_z_report: "শেষ Z-রিপোর্ট",
    no_z_report: "সাম্প্রতিক কার্যদিবসগুলোতে কোনো Z-রিপোর্ট নেই।",
    closed_matches: "বন্ধ, মোট মিলেছে",
    closed_differs: "বন্ধ, মোট মেলেনি",
    not_closed: "বন্ধ হয়নি",
    closed_at: "বন্ধের সময়",
    closed_by: "বন্ধ করেছেন",
    received: "প্রাপ্ত",
    hub_holds: "হাবে আছে",
    difference: "পার্থক্য",
    recent_days: "সাম্প্রতিক দিন",
    no_days: "কোনো কার্যদিবস নেই।",
    payee_changed: "প্রাপক বদলেছে",
    payee_changed_hint: "এই টার্মিনালের পরিশোধ যে অ্যাকাউন্টে যায় তা বদলেছে (read API-এর payee_changes দেখুন)।",
    chain_broken: "অডিট চেইন ভাঙা",
    chain_broken_hint: "টার্মিনালের অডিট চেইনের নতুন মাথা হাবের রাখা মাথার ধারাবাহিকতা নয়।",
    day: "দিন",
    previous_day: "আগের দিন",
    next_day: "পরের দিন",
    show: "দেখান",
    bad_day: "এটি তারিখ নয় (YYYY-MM-DD); আজকের দিন দেখানো হচ্ছে।",
    t_day_summary: "কার্যক্রম থাকা {active}টি টার্মিনালের মধ্যে {closed}টি দিন বন্ধ করেছে; {differ}টি হাবের হিসাবের সাথে মেলেনি।",
    no_activity: "এই দিনে কোনো টার্মিনালে কার্যক্রম ছিল না।",
    differences_of: "পার্থক্য:",
    all_terminals: "সব টার্মিনাল",
    provider_evidence: "প্রদানকারীর প্রমাণ",
    no_evidence: "এই হাবে এখনও কোনো প্রদানকারী-যাচাই চালু নেই: এই হিসাব টার্মিনালগুলোর নিজের।",
    evidence_notifications: "প্রদানকারীর পাঠানো বিজ্ঞপ্তি",
    evidence_hub_check: "হাব যাচাই করেছে",
    evidence_confirmed: "পরিশোধ নিশ্চিত",
    evidence_not_confirmed: "প্রদানকারী নিশ্চিত করেনি",
    evidence_no_settlement: "টাকা এসেছে, কিন্তু কোনো টার্মিনালে বিক্রি নেই",
    evidence_differs: "পরিমাণ বা অ্যাকাউন্ট মেলেনি",
    checked: "যাচাই",
    reference: "রেফারেন্স",
    search_title: "পরিশোধ খুঁজুন",
    search_text: "ইনভয়েস, trxID, MD5, হ্যাশ বা পরিশোধ আইডি",
    search_placeholder: "যেমন till-01-000042 বা 8N7A…",
    search: "খুঁজুন",
    all: "সব",
    bad_search_text: "খোঁজার লেখাটি অনেক লম্বা অথবা তাতে লাইন ভাঙা আছে।",
    bad_amount: "পরিমাণটি সংখ্যা নয় (যেমন 1250.50)।",
    bad_terminal: "এটি টার্মিনাল আইডি নয়।",
    t_results: "{n}টি পাওয়া গেছে",
    t_results_more: "প্রথম {n}টি দেখানো হয়েছে",
    showing_today: "কিছু চাওয়া হয়নি, তাই আজকের",
    nothing_found: "কিছুই মেলেনি।",
    download_csv: "CSV ডাউনলোড",
    more: "আরও",
    time: "সময়",
    invoice: "ইনভয়েস",
    references: "রেফারেন্স",
    payment_id: "পরিশোধ আইডি",
    admin_title: "টার্মিনাল ও কী",
    add_terminal: "টার্মিনাল যোগ করুন",
    terminal_id: "টার্মিনাল আইডি",
    name: "নাম",
    add: "যোগ করুন",
    key: "কী",
    kind: "ধরন",
    created: "তৈরি",
    public_key: "পাবলিক কী",
    retired: "অবসরপ্রাপ্ত",
    key_generate: "নতুন ed25519 কী (হাব শুধু পাবলিক অংশ রাখে)",
    key_public: "টার্মিনালের নিজের পাবলিক কী",
    key_hmac: "যৌথ HMAC সিক্রেট",
    rotate: "কী যোগ করুন",
    retire: "অবসর দিন",
    retire_which: "অবসর দিন",
    all_but_newest: "নতুনটি বাদে সব",
    disable: "বন্ধ করুন",
    enable: "চালু করুন",
    confirm_retire: "এই কী-কে অবসর দেবেন? শুধু এটি দিয়ে সই করা অনুরোধ প্রত্যাখ্যাত হবে।",
    confirm_disable: "এই টার্মিনাল বন্ধ করবেন? হাব এর পাঠানো সবকিছু প্রত্যাখ্যান করবে।",
    terminal_added_title: "টার্মিনাল যোগ হয়েছে",
    key_rotated_title: "কী যোগ হয়েছে",
    t_key_added: "টার্মিনাল {t}: কী {k} যোগ হয়েছে।",
    t_shown_once: "এখনই টার্মিনালকে এই কী দিন, তার সিক্রেট {setting} হিসেবে (`till secret set {setting}`, অথবা তার সেটিংস)। এটি শুধু এই একবারই দেখানো হবে।",
    after_rotation: "পুরোনো কী অবসর না দেওয়া পর্যন্ত চলবে: টার্মিনাল নতুনটি দিয়ে সই করলে সেগুলো অবসর দিন।",
    public_key_kept: "হাব পাবলিক কী রাখে; প্রাইভেট কী কখনও টার্মিনাল ছাড়েনি।",
    copy: "কপি",
    back_to_terminals: "টার্মিনাল ও কী-তে ফিরুন",
    t_done_retired: "টার্মিনাল {t}: কী অবসর দেওয়া হয়েছে।",
    t_done_disabled: "টার্মিনাল {t} বন্ধ: হাব এর পাঠানো সবকিছু প্রত্যাখ্যান করে।",
    t_done_enabled: "টার্মিনাল {t} আবার চালু।",
    err_invalid_id: "টার্মিনাল আইডি ১ থেকে ১২৮ অক্ষরের, A–Z, a–z, 0–9, _ ও - দিয়ে।",
    err_terminal_exists: "এই আইডির একটি টার্মিনাল আগেই আছে।",
    err_unknown_terminal: "এই আইডির কোনো টার্মিনাল নেই।",
    err_no_such_key: "এই টার্মিনালের এমন কোনো চালু কী নেই।",
    err_last_key: "এটি টার্মিনালের একমাত্র চালু কী: আগে একটি কী যোগ করুন।",
    err_bad_public_key: "এটি ed25519 পাবলিক কী নয় (whpk_…)।",
    err_no_secret_key: "HMAC সিক্রেট সিল করার জন্য হাবের কোনো সিক্রেট কী নেই: ed25519 কী ব্যবহার করুন, অথবা হাবকে তার কী ফাইল দিন (till-hub init)।",
    wallet_bkash: "বিকাশ",
    wallet_bakong: "Bakong KHQR",
    wallet_nagad: "নগদ",
    wallet_demo: "ডেমো",
};

pub static KM: Words = Words {
    app_name: "ការិយាល័យ Till",
    nav_today: "ថ្ងៃនេះ",
    nav_terminals: "ម៉ាស៊ីនគិតលុយ",
    nav_days: "ថ្ងៃ",
    nav_search: "ស្វែងរក",
    nav_admin: "ម៉ាស៊ីន និងសោ",
    sign_out: "ចាកចេញ",
    role_read: "អានតែប៉ុណ្ណោះ",
    role_admin: "អ្នកគ្រប់គ្រង",
    sign_in_title: "ចូលការិយាល័យ",
    sign_in: "ចូល",
    username: "ឈ្មោះអ្នកប្រើ",
    password: "ពាក្យសម្ងាត់",
    wrong_password: "ឈ្មោះអ្នកប្រើ ឬពាក្យសម្ងាត់មិនត្រឹមត្រូវ។",
    t_locked: "ពាក្យសម្ងាត់ខុសច្រើនដងពេក៖ អ្នកប្រើនេះមិនអាចចូលបានរហូតដល់ {until} (ប្រហែល {n} នាទី)។ សូមព្យាយាមម្តងទៀតនៅពេលនោះ ឬសុំអ្នកគ្រប់គ្រងកំណត់ពាក្យសម្ងាត់ថ្មី។",
    user_disabled: "អ្នកប្រើនេះត្រូវបានបិទ។ សូមសុំអ្នកគ្រប់គ្រងបើកវាវិញ។",
    session_ended: "វគ្គរបស់អ្នកបានបញ្ចប់។ សូមចូលម្តងទៀត។",
    signed_out: "អ្នកបានចាកចេញហើយ។",
    csrf_title: "ទម្រង់នេះត្រូវបានបដិសេធ",
    csrf_refused: "វាមិនបានមកពីទំព័ររបស់ការិយាល័យនេះទេ ឬទំព័រចាស់ពេក។ សូមត្រឡប់ក្រោយ ផ្ទុកទំព័រឡើងវិញ ហើយព្យាយាមម្តងទៀត។",
    csrf_no_cookie: "កម្មវិធីរុករករបស់អ្នកមិនបានរក្សាខូគីនៃទំព័រចូលទេ ដូច្នេះការចូលនេះមិនអាចទុកចិត្តបានទេ។ ការិយាល័យត្រូវការ HTTPS (ឬអាសយដ្ឋានផ្ទាល់របស់កុំព្យូទ័រនេះ localhost)៖ សូមបើកវាដោយ https:// ហើយអនុញ្ញាតខូគីរបស់វា។",
    admins_only_title: "សម្រាប់អ្នកគ្រប់គ្រងតែប៉ុណ្ណោះ",
    admins_only: "អ្នកប្រើរបស់អ្នកអាចមើលការិយាល័យបាន ប៉ុន្តែមិនអាចផ្លាស់ប្តូរម៉ាស៊ីន ឬសោបានទេ។",
    unavailable_title: "ការិយាល័យមិនអាចប្រើបានទេ",
    unavailable: "ហាប់មិនអាចភ្ជាប់ទៅមូលដ្ឋានទិន្នន័យរបស់វាបានទេឥឡូវនេះ។ សូមព្យាយាមម្តងទៀតក្នុងរយៈពេលមួយនាទី។",
    not_found_title: "រកមិនឃើញ",
    not_found: "គ្មានទំព័របែបនេះទេ។",
    back_to_today: "ត្រឡប់ទៅថ្ងៃនេះ",
    today: "ថ្ងៃនេះ",
    updated: "បានធ្វើបច្ចុប្បន្នភាព",
    no_sales: "មិនទាន់មានការទូទាត់នៅឡើយទេ។",
    net: "សុទ្ធ",
    settled: "បានទូទាត់",
    refunded: "បានសងវិញ",
    payments: "ការទូទាត់",
    refunds: "ការសងវិញ",
    refund: "សងវិញ",
    wallet: "កាបូប",
    currency: "រូបិយប័ណ្ណ",
    amount: "ចំនួនទឹកប្រាក់",
    by_wallet: "តាមកាបូប",
    per_hour: "សុទ្ធក្នុងមួយម៉ោង",
    chart_partial: "ក្រាហ្វបង្ហាញតែព្រឹត្តិការណ៍ 50,000 ដំបូងនៃថ្ងៃប៉ុណ្ណោះ។",
    matches: "ត្រូវគ្នា",
    differs: "ខុសគ្នា",
    terminals: "ម៉ាស៊ីនគិតលុយ",
    terminal: "ម៉ាស៊ីន",
    no_terminals: "មិនទាន់មានម៉ាស៊ីនចុះឈ្មោះនៅឡើយទេ។",
    no_such_terminal: "គ្មានម៉ាស៊ីនដែលមានលេខសម្គាល់នេះទេ។",
    status: "ស្ថានភាព",
    active: "សកម្ម",
    disabled: "បានបិទ",
    last_seen: "ឃើញចុងក្រោយ",
    never: "មិនដែល",
    just_now: "មុននេះបន្តិច",
    t_minutes_ago: "{n} នាទីមុន",
    t_hours_ago: "{n} ម៉ោងមុន",
    t_days_ago: "{n} ថ្ងៃមុន",
    events: "ព្រឹត្តិការណ៍",
    events_lc: "ព្រឹត្តិការណ៍",
    sequence: "លំដាប់",
    in_sequence: "គ្មានអ្វីបាត់",
    missing: "បាត់",
    contiguous_to: "ពេញលេញរហូតដល់",
    highest: "ខ្ពស់បំផុត",
    z_report: "របាយការណ៍ Z",
    z_report_today: "របាយការណ៍ Z ថ្ងៃនេះ",
    z_reports: "របាយការណ៍ Z ដែលបានទទួល",
    last_z_report: "របាយការណ៍ Z ចុងក្រោយ",
    no_z_report: "គ្មានរបាយការណ៍ Z ក្នុងថ្ងៃសកម្មថ្មីៗនេះទេ។",
    closed_matches: "បានបិទ សរុបត្រូវគ្នា",
    closed_differs: "បានបិទ សរុបខុសគ្នា",
    not_closed: "មិនទាន់បិទ",
    closed_at: "បិទនៅ",
    closed_by: "បិទដោយ",
    received: "បានទទួល",
    hub_holds: "ហាប់មាន",
    difference: "ភាពខុសគ្នា",
    recent_days: "ថ្ងៃថ្មីៗ",
    no_days: "គ្មានថ្ងៃសកម្មទេ។",
    payee_changed: "អ្នកទទួលបានផ្លាស់ប្តូរ",
    payee_changed_hint: "គណនីដែលការទូទាត់របស់ម៉ាស៊ីននេះចូលបានផ្លាស់ប្តូរ (មើល payee_changes នៃ read API)។",
    chain_broken: "ខ្សែសវនកម្មដាច់",
    chain_broken_hint: "ក្បាលថ្មីនៃខ្សែសវនកម្មរបស់ម៉ាស៊ីនមិនបន្តពីក្បាលដែលហាប់កាន់។",
    day: "ថ្ងៃ",
    previous_day: "ថ្ងៃមុន",
    next_day: "ថ្ងៃបន្ទាប់",
    show: "បង្ហាញ",
    bad_day: "នេះមិនមែនជាកាលបរិច្ឆេទទេ (YYYY-MM-DD); កំពុងបង្ហាញថ្ងៃនេះ។",
    t_day_summary: "ម៉ាស៊ីន {closed} ក្នុងចំណោម {active} ដែលសកម្មបានបិទថ្ងៃ; {differ} ខុសពីអ្វីដែលហាប់មាន។",
    no_activity: "គ្មានម៉ាស៊ីនណាសកម្មនៅថ្ងៃនេះទេ។",
    differences_of: "ភាពខុសគ្នា៖",
    all_terminals: "ម៉ាស៊ីនទាំងអស់",
    provider_evidence: "ភស្តុតាងពីអ្នកផ្តល់សេវា",
    no_evidence: "មិនទាន់មានការត្រួតពិនិត្យពីអ្នកផ្តល់សេវានៅលើហាប់នេះទេ៖ តួលេខទាំងនេះជារបស់ម៉ាស៊ីនផ្ទាល់។",
    evidence_notifications: "ការជូនដំណឹងដែលអ្នកផ្តល់សេវាបានផ្ញើ",
    evidence_hub_check: "ត្រួតពិនិត្យដោយហាប់",
    evidence_confirmed: "ការទូទាត់បានបញ្ជាក់",
    evidence_not_confirmed: "អ្នកផ្តល់សេវាមិនបានបញ្ជាក់",
    evidence_no_settlement: "បានបង់ ប៉ុន្តែគ្មានម៉ាស៊ីនណាមានការលក់",
    evidence_differs: "ចំនួនទឹកប្រាក់ ឬគណនីខុសគ្នា",
    checked: "បានពិនិត្យ",
    reference: "លេខយោង",
    search_title: "ស្វែងរកការទូទាត់",
    search_text: "វិក្កយបត្រ trxID MD5 hash ឬលេខសម្គាល់ការទូទាត់",
    search_placeholder: "ឧ. till-01-000042 ឬ 8N7A…",
    search: "ស្វែងរក",
    all: "ទាំងអស់",
    bad_search_text: "អត្ថបទស្វែងរកវែងពេក ឬមានការចុះបន្ទាត់។",
    bad_amount: "ចំនួនទឹកប្រាក់មិនមែនជាលេខទេ (ឧ. 1250.50)។",
    bad_terminal: "នេះមិនមែនជាលេខសម្គាល់ម៉ាស៊ីនទេ។",
    t_results: "រកឃើញ {n}",
    t_results_more: "បង្ហាញ {n} ដំបូង",
    showing_today: "របស់ថ្ងៃនេះ ព្រោះមិនបានសួរអ្វីទេ",
    nothing_found: "គ្មានអ្វីត្រូវគ្នាទេ។",
    download_csv: "ទាញយក CSV",
    more: "បន្ថែម",
    time: "ពេលវេលា",
    invoice: "វិក្កយបត្រ",
    references: "លេខយោង",
    payment_id: "លេខសម្គាល់ការទូទាត់",
    admin_title: "ម៉ាស៊ីន និងសោ",
    add_terminal: "បន្ថែមម៉ាស៊ីន",
    terminal_id: "លេខសម្គាល់ម៉ាស៊ីន",
    name: "ឈ្មោះ",
    add: "បន្ថែម",
    key: "សោ",
    kind: "ប្រភេទ",
    created: "បានបង្កើត",
    public_key: "សោសាធារណៈ",
    retired: "ឈប់ប្រើ",
    key_generate: "សោ ed25519 ថ្មី (ហាប់រក្សាតែផ្នែកសាធារណៈ)",
    key_public: "សោសាធារណៈរបស់ម៉ាស៊ីនផ្ទាល់",
    key_hmac: "សោសម្ងាត់ HMAC រួម",
    rotate: "បន្ថែមសោ",
    retire: "ឈប់ប្រើ",
    retire_which: "ឈប់ប្រើ",
    all_but_newest: "ទាំងអស់ លើកលែងតែថ្មីបំផុត",
    disable: "បិទ",
    enable: "បើក",
    confirm_retire: "ឈប់ប្រើសោនេះ? សំណើដែលចុះហត្ថលេខាតែដោយវានឹងត្រូវបដិសេធ។",
    confirm_disable: "បិទម៉ាស៊ីននេះ? ហាប់នឹងបដិសេធអ្វីៗទាំងអស់ដែលវាផ្ញើ។",
    terminal_added_title: "បានបន្ថែមម៉ាស៊ីន",
    key_rotated_title: "បានបន្ថែមសោ",
    t_key_added: "ម៉ាស៊ីន {t}៖ បានបន្ថែមសោ {k}។",
    t_shown_once: "សូមផ្តល់សោនេះឱ្យម៉ាស៊ីនឥឡូវនេះ ជាសម្ងាត់ {setting} របស់វា (`till secret set {setting}` ឬការកំណត់របស់វា)។ វាត្រូវបានបង្ហាញតែម្តងនេះប៉ុណ្ណោះ។",
    after_rotation: "សោចាស់នៅតែប្រើបានរហូតដល់អ្នកឈប់ប្រើវា៖ ឈប់ប្រើវានៅពេលម៉ាស៊ីនចុះហត្ថលេខាដោយសោថ្មី។",
    public_key_kept: "ហាប់រក្សាសោសាធារណៈ; សោឯកជនមិនដែលចាកចេញពីម៉ាស៊ីនទេ។",
    copy: "ចម្លង",
    back_to_terminals: "ត្រឡប់ទៅម៉ាស៊ីន និងសោ",
    t_done_retired: "ម៉ាស៊ីន {t}៖ សោត្រូវបានឈប់ប្រើ។",
    t_done_disabled: "ម៉ាស៊ីន {t} ត្រូវបានបិទ៖ ហាប់បដិសេធអ្វីដែលវាផ្ញើ។",
    t_done_enabled: "ម៉ាស៊ីន {t} ត្រូវបានបើកវិញ។",
    err_invalid_id: "លេខសម្គាល់ម៉ាស៊ីនមាន 1 ដល់ 128 តួអក្សរ A–Z, a–z, 0–9, _ និង -។",
    err_terminal_exists: "មានម៉ាស៊ីនដែលមានលេខសម្គាល់នេះរួចហើយ។",
    err_unknown_terminal: "គ្មានម៉ាស៊ីនដែលមានលេខសម្គាល់នេះទេ។",
    err_no_such_key: "ម៉ាស៊ីននោះគ្មានសោសកម្មបែបនេះទេ។",
    err_last_key: "នេះជាសោសកម្មតែមួយគត់របស់ម៉ាស៊ីន៖ សូមបន្ថែមសោជាមុនសិន។",
    err_bad_public_key: "នេះមិនមែនជាសោសាធារណៈ ed25519 ទេ (whpk_…)។",
    err_no_secret_key: "ហាប់គ្មានសោសម្ងាត់ដើម្បីបិទភ្ជាប់សម្ងាត់ HMAC ទេ៖ សូមប្រើសោ ed25519 ឬផ្តល់ឯកសារសោដល់ហាប់ (till-hub init)។",
    wallet_bkash: "bKash",
    wallet_bakong: "បាគង KHQR",
    wallet_nagad: "Nagad",
    wallet_demo: "សាកល្បង",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_chooses_when_the_user_has_not() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::negotiate(&h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-FR, bn-BD;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(Lang::negotiate(&h), Lang::Bn);
        h.insert(header::ACCEPT_LANGUAGE, "km-KH".parse().unwrap());
        assert_eq!(Lang::negotiate(&h), Lang::Km);
        h.insert(header::ACCEPT_LANGUAGE, "de".parse().unwrap());
        assert_eq!(Lang::negotiate(&h), Lang::En);
        assert_eq!(Lang::from_code("BN"), Some(Lang::Bn));
        assert_eq!(Lang::from_code("xx"), None);
    }

    #[test]
    fn templates_are_filled_in_every_language() {
        for l in Lang::ALL {
            let w = l.words();
            let s = w.locked("2026-12-03 10:15", 15);
            assert!(s.contains("10:15") && s.contains("15"), "{s}");
            let s = w.day_summary(2, 3, 1);
            assert!(!s.contains('{'), "{s}");
            assert!(!w.key_added("till-01", 7).contains('{'));
            assert!(w.shown_once("hub.secret").contains("hub.secret"));
        }
    }
}
