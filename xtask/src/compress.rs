//! `.br` and `.gz` siblings for every file of a dist, so the static server never compresses
//! on a request.
use std::{fs, io::Write, path::Path};

use anyhow::{Context, Result};

pub fn precompress_dir(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            precompress_dir(&path)?;
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".br") || name.ends_with(".gz") || name.starts_with('.') {
            continue;
        }
        let data = fs::read(&path)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data)?;
        fs::write(path.with_file_name(format!("{name}.gz")), gz.finish()?)?;
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &data[..], &mut br, &params)?;
        fs::write(path.with_file_name(format!("{name}.br")), br)?;
    }
    Ok(())
}
