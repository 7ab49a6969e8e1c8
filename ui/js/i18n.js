// Every string the screens show, per language, in one place.
// The customer display shows English with Khmer (KHQR) or Bangla (bKash) beneath it.
"use strict";

window.TillText = {
  en: {
    amount: "Amount",
    charge_khqr: "Bakong KHQR",
    charge_bkash: "bKash",
    charge_demo: "Demo",
    not_configured: "not set up on this terminal",
    cancel: "Cancel",
    ready: "Ready — key an amount",
    showing_qr: "Waiting for customer to scan…",
    expires_in: "QR expires in",
    qr_expired: "QR expired — charge again?",
    cleared: "Cancelled — ready for the next customer",
    welcome: "Welcome",
    scan_to_pay: "Scan with your banking app to pay",
    scan_within: "Scan within",
    expired: "This QR code has expired",
    demo_note: "Demo profile — no real money moves",
    keys_hint: "Enter = charge · Esc = cancel · Ctrl+1 KHR · Ctrl+2 USD",
  },
  km: {
    welcome: "សូមស្វាគមន៍",
    scan_to_pay: "ស្កេនដោយកម្មវិធីធនាគាររបស់អ្នក ដើម្បីបង់ប្រាក់",
    scan_within: "ស្កេនក្នុងរយៈពេល",
    expired: "កូដ QR នេះផុតកំណត់ហើយ",
  },
  bn: {
    welcome: "স্বাগতম",
    scan_to_pay: "পরিশোধ করতে আপনার ব্যাংকিং অ্যাপ দিয়ে স্ক্যান করুন",
    scan_within: "এর মধ্যে স্ক্যান করুন",
    expired: "এই QR কোডের মেয়াদ শেষ",
  },
};
