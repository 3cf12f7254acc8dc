//! File IO for the commands: reading sources, resolving the files they name, writing atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads the files an `.owg` source names (empirical CSVs, replayed arrivals), relative to the
/// directory of the `.owg` file.
pub struct FsLoader {
    base: PathBuf,
}

impl FsLoader {
    /// A loader for the sources of the file at `owg_path`.
    pub fn for_file(owg_path: &Path) -> FsLoader {
        let base = owg_path.parent().map(Path::to_path_buf).unwrap_or_default();
        FsLoader { base }
    }
}

impl octopus_owg::Loader for FsLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        let full = self.base.join(path);
        fs::read_to_string(&full).map_err(|e| format!("cannot read `{}`: {e}", full.display()))
    }
}

/// Why a source file could not be read.
pub enum ReadError {
    /// The file could not be read at all (exit code 2).
    Io(String),
    /// The file was read but is not UTF-8 text: invalid input (exit code 1).
    NotText(String),
}

impl ReadError {
    /// Prints the error the way every command does; the exit code it calls for.
    pub fn report(self) -> u8 {
        match self {
            ReadError::Io(m) => {
                report_error(&m);
                crate::exit::USAGE
            }
            ReadError::NotText(m) => {
                report_error(&m);
                crate::exit::INVALID
            }
        }
    }
}

/// Reads an input file; on failure prints why and returns the exit code (2 unreadable, 1 not text).
pub fn read_input(path: &Path) -> Result<String, u8> {
    read_source(path).map_err(ReadError::report)
}

/// Reads a source file, telling an unreadable file from one that is not UTF-8 text.
pub fn read_source(path: &Path) -> Result<String, ReadError> {
    let bytes =
        fs::read(path).map_err(|e| ReadError::Io(format!("cannot read `{}`: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        ReadError::NotText(format!(
            "`{}` is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The file's stem, as a default workflow name.
pub fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "workflow".to_owned())
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed, then renamed over it,
/// so a reader never sees half a file and a failed write never destroys the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| format!("`{}` is not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write `{}`: {e}", path.display())
    })
}

/// Prints an IO or usage error the way every command does.
pub fn report_error(message: &str) {
    eprintln!("error: {message}");
}

/// Line and column (both 1-based, column in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let s = "ab\ncdé\nf";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 4), (2, 2));
        assert_eq!(line_col(s, 8), (3, 1));
        assert_eq!(line_col(s, 999), (3, 2));
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("octopus-io-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing/out.txt"), b"x").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
