//! The standard library: `.jspec` files of procedures bundled into the binary and found by
//! `use "stdlib/NAME.jspec"` when no such file exists beside the using file.

/// `(path as written in a use, text)`.
pub const FILES: &[(&str, &str)] = &[
    (
        "stdlib/disco.jspec",
        include_str!("../../stdlib/disco.jspec"),
    ),
    ("stdlib/mam.jspec", include_str!("../../stdlib/mam.jspec")),
    ("stdlib/muc.jspec", include_str!("../../stdlib/muc.jspec")),
    (
        "stdlib/vcard.jspec",
        include_str!("../../stdlib/vcard.jspec"),
    ),
];

/// The bundled file for a `use` path, such as `stdlib/muc.jspec`.
pub fn get(path: &str) -> Option<&'static str> {
    let path = path.strip_prefix("./").unwrap_or(path);
    FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, text)| *text)
}
