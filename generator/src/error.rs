//! Errors of the generator. A content problem always names the file and line, so an
//! operator can fix every bad file from one run of `buurtbord check`.

use std::fmt;
use std::path::PathBuf;

/// One problem in one content file, reported as `path:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub path: PathBuf,
    /// 1-based line; `None` when the problem concerns the whole file.
    pub line: Option<usize>,
    pub reason: String,
}

impl ContentError {
    pub fn new(path: impl Into<PathBuf>, line: Option<usize>, reason: impl Into<String>) -> Self {
        Self { path: path.into(), line, reason: reason.into() }
    }
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

/// Why a build or check did not complete.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The content has problems; every one found is listed.
    #[error("{} problem(s) in the content", .0.len())]
    Content(Vec<ContentError>),
    #[error("theme: {0}")]
    Theme(String),
    // The reason is part of the message and not a `source`, so a report that prints the
    // whole chain does not say it twice.
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
}

impl BuildError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), error: source }
    }
}
