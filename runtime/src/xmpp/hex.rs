//! Lower-case hex, as jspec and its GSSAPI helper (`jspec-gssapi`) write byte strings to each
//! other, one line each. The helper includes this file as a module of its own (`#[path]`).

/// The bytes in lower-case hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string (either case); `None` if it is not hex.
pub(crate) fn decode(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(decode("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(encode(&[0, 255, 16]), "00ff10");
        assert_eq!(decode(""), Some(vec![]));
        assert_eq!(decode("0"), None);
        assert_eq!(decode("zz"), None);
    }
}
