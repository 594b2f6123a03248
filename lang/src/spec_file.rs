//! Reading a `.jspec` file without trusting what its path names: only a regular file is opened
//! (opening a FIFO blocks until a writer comes, a device such as /dev/zero never ends), and at
//! most [`MAX_SPEC_FILE_BYTES`] are read, so a file that grows while it is read cannot exhaust
//! memory either.

use std::fmt;
use std::fs::FileType;
use std::io::{self, ErrorKind, Read};
use std::path::Path;

/// The largest `.jspec` file jspec reads; real files are far smaller (the 100,000-line benchmark
/// corpus is 2.4 MB over 50 files).
pub const MAX_SPEC_FILE_BYTES: u64 = 16 << 20;

/// Why jspec refused to read a path that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A FIFO, device, socket or folder; `kind` says which ("a FIFO").
    NotRegular { kind: &'static str },
    /// More than [`MAX_SPEC_FILE_BYTES`].
    TooLarge,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotRegular { kind } => write!(f, "not a regular file ({kind})"),
            Refused::TooLarge => f.write_str("larger than 16 MiB, the limit for a .jspec file"),
        }
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// What the user can do about it.
    pub fn help(self) -> &'static str {
        match self {
            Refused::NotRegular { .. } => {
                "jspec reads only regular files (a FIFO or a device can block or never end): name the .jspec file itself, or rename this one so that its name does not end in .jspec"
            }
            Refused::TooLarge => {
                "split it: cases can be spread over several files of a folder, and procedures shared with `use`"
            }
        }
    }

    fn into_io(self) -> io::Error {
        let kind = match self {
            Refused::NotRegular { kind: "a folder" } => ErrorKind::IsADirectory,
            Refused::NotRegular { .. } => ErrorKind::InvalidInput,
            Refused::TooLarge => ErrorKind::FileTooLarge,
        };
        io::Error::new(kind, self)
    }

    /// The refusal inside an error returned by [`read_spec_file`], if it is one.
    pub fn of(error: &io::Error) -> Option<Refused> {
        error.get_ref()?.downcast_ref::<Refused>().copied()
    }
}

/// A hint for an error of [`read_spec_file`] (or of any reader of spec files).
pub fn read_error_help(error: &io::Error) -> &'static str {
    match Refused::of(error) {
        Some(refused) => refused.help(),
        None if error.kind() == ErrorKind::InvalidData => "save the file as UTF-8",
        None => "check the path and its permissions",
    }
}

/// The text of a `.jspec` file: a regular file (symbolic links followed) of at most
/// [`MAX_SPEC_FILE_BYTES`], in UTF-8.
pub fn read_spec_file(path: &Path) -> io::Result<String> {
    // Decided before opening: opening a FIFO for reading would already block.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        let kind = describe(metadata.file_type());
        return Err(Refused::NotRegular { kind }.into_io());
    }
    if metadata.len() > MAX_SPEC_FILE_BYTES {
        return Err(Refused::TooLarge.into_io());
    }
    read_limited(std::fs::File::open(path)?, MAX_SPEC_FILE_BYTES)
}

/// Reads at most `limit` bytes as UTF-8: one byte more shows the source is too large (a file
/// that grew after its size was read).
fn read_limited(source: impl Read, limit: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    source.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Refused::TooLarge.into_io());
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

/// What a path that is not a regular file is, for the message.
fn describe(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_that_never_ends_stops_one_byte_past_the_limit() {
        let error = read_limited(io::repeat(b'a'), 1024).unwrap_err();
        assert_eq!(Refused::of(&error), Some(Refused::TooLarge));
        assert_eq!(error.kind(), ErrorKind::FileTooLarge);
    }

    #[test]
    fn a_source_at_the_limit_is_read() {
        let text = read_limited(io::repeat(b'a').take(1024), 1024).unwrap();
        assert_eq!(text.len(), 1024);
    }

    #[test]
    fn invalid_utf8_is_invalid_data() {
        let error = read_limited(&[0xff, 0xfe][..], 1024).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert_eq!(read_error_help(&error), "save the file as UTF-8");
    }
}
