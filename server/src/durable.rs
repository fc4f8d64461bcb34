//! Crash-safe file replacement, shared by the file store and auth's data dir: a reader (or a
//! restart after `kill -9`) sees the old file or the new one, never half of one.
use std::{fs, io::Write, path::Path, time::SystemTime};

/// How a replacement is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Replace {
    /// fsync the file before the rename and the directory after it. Without it the rename is
    /// still atomic for other processes, but a power loss may lose the last writes.
    pub fsync: bool,
    /// Unix permission bits for the new file (e.g. `0o600` for secrets).
    pub mode: Option<u32>,
    /// Modification time to give the file (the file store reads it back as `updated`).
    pub modified: Option<SystemTime>,
}

/// Replaces `path` with `bytes` through a temp file in the same directory and a rename.
pub fn replace(path: &Path, bytes: &[u8], how: Replace) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let stem = path.file_stem().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{stem}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if let Some(mode) = how.mode {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        if let Some(t) = how.modified {
            f.set_modified(t)?;
        }
        if how.fsync {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)?;
        if how.fsync {
            // The rename itself is only durable once the directory entry is.
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        replace(
            &p,
            b"one",
            Replace {
                fsync: true,
                mode: Some(0o600),
                modified: None,
            },
        )
        .unwrap();
        replace(&p, b"two", Replace::default()).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn mode_is_applied() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        replace(
            &p,
            b"secret",
            Replace {
                fsync: true,
                mode: Some(0o600),
                modified: None,
            },
        )
        .unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
