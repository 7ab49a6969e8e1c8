//! CRC-16/CCITT-FALSE (tag 63) and the MD5 tracking key.

use crc::{Crc, CRC_16_IBM_3740};
use md5::{Digest, Md5};

/// CRC-16/CCITT-FALSE: polynomial 0x1021, init 0xFFFF, no reflection, no
/// final XOR (the `crc` catalogue calls it CRC-16/IBM-3740).
const CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// CRC-16/CCITT-FALSE of `bytes`. `crc16(b"123456789") == 0x29B1`.
pub fn crc16(bytes: &[u8]) -> u16 {
    CCITT_FALSE.checksum(bytes)
}

/// The four upper-case hex digits KHQR writes after `6304`, computed over
/// `payload` (which must already end with `6304`).
pub fn crc16_hex(payload: &str) -> String {
    format!("{:04X}", crc16(payload.as_bytes()))
}

/// Lower-case hex MD5 of the UTF-8 bytes of the complete KHQR string
/// (CRC included): the key Bakong's `check_transaction_by_md5` takes.
pub fn md5_hex(qr: &str) -> String {
    let digest = Md5::digest(qr.as_bytes());
    let mut out = String::with_capacity(32);
    for b in digest {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xF), 16).unwrap_or('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(crc16_hex("123456789"), "29B1");
    }

    #[test]
    fn md5_of_spec_example() {
        let qr = "00020101021129190015sokha_chan@aclb5204599953031165802KH5910Sokha Chan6010Phnom Penh6304F4AE";
        assert_eq!(md5_hex(qr), "252a63bc5daa73f984eb264d3e1f4766");
    }
}
