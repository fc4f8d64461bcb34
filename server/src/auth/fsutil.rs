//! Owner-only, crash-safe file writes: a reader sees the old or the new file, never half of one.
use std::{fs, path::Path};

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temp file, fsync and rename, with mode 0600.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::durable::replace(
        path,
        bytes,
        crate::durable::Replace {
            fsync: true,
            mode: Some(0o600),
            modified: None,
        },
    )
}
