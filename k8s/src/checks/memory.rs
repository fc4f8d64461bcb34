//! Memory requests and limits follow what was measured, so a pod is neither OOM-killed as its
//! data grows nor reserving memory it never uses. The figures come from `bench/soak.sh` and
//! `server/tests/store_memory.rs`; `docs/store-memory.md` has the runs they come from.
use crate::manifests::{Manifests, PodTemplate};

const MIB: u64 = 1024 * 1024;

/// What one role was measured to use (resident set, bytes): idle after start, and the peak
/// under load (64 connections for the stores and static, concurrent logins for auth). For the
/// file store the load figure is the runtime alone: its cache and index are added separately.
pub struct Footprint {
    pub role: &'static str,
    pub idle: u64,
    pub loaded: u64,
}

/// From `bench/soak.sh` (BENCHMARKS.md, "Soak"; a debug build, whose RSS is the larger). The
/// file store's runtime is its RSS at the end of the mixed run (69 MiB) less its cache (31,048
/// models of 790 B) and index (344 B each). Auth's peak is argon2id's 19 MiB per hash, kept by
/// the allocator's per-thread arenas after 64 concurrent logins.
pub const MEASURED: &[Footprint] = &[
    Footprint {
        role: "static",
        idle: 22 * MIB,
        loaded: 24 * MIB,
    },
    Footprint {
        role: "auth",
        idle: 23 * MIB,
        loaded: 538 * MIB,
    },
    Footprint {
        role: "store-file",
        idle: 22 * MIB,
        loaded: 36 * MIB,
    },
    Footprint {
        role: "store-redis",
        idle: 23 * MIB,
        loaded: 28 * MIB,
    },
    Footprint {
        role: "store-postgres",
        idle: 24 * MIB,
        loaded: 28 * MIB,
    },
];

/// The file store's index per model, measured with 200,000 models (docs/store-memory.md).
pub const INDEX_BYTES_PER_MODEL: u64 = 344;
/// The model count a file store's memory limit must hold the index of.
pub const FILE_STORE_MODELS: u64 = 200_000;
/// Share of the measured need a limit keeps free for allocator slack and what was not measured.
pub const MARGIN_PERCENT: u64 = 25;

/// A Kubernetes quantity in bytes: `256Mi`, `1Gi`, `500M`, `64k`, `1e6`, `1048576`.
pub fn quantity_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let mult: u64 = match unit {
        "" => 1,
        "k" => 1000,
        "M" => 1000u64.pow(2),
        "G" => 1000u64.pow(3),
        "T" => 1000u64.pow(4),
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        _ if unit.starts_with('e') => {
            let exp: u32 = unit[1..].parse().ok()?;
            return num
                .parse::<u64>()
                .ok()?
                .checked_mul(10u64.checked_pow(exp)?);
        }
        _ => return None,
    };
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult);
    }
    let f: f64 = num.parse().ok()?;
    (f >= 0.0).then_some((f * mult as f64) as u64)
}

/// The measured role of an sa-server container: `static`, `auth`, or `store-{backend}`.
fn role_key(m: &Manifests, pod: &PodTemplate, c: &serde_json::Value) -> Option<String> {
    match Manifests::role(c)? {
        "store" => {
            let backend = m
                .flag(pod.namespace, c, "--backend", "SA_BACKEND")
                .unwrap_or_else(|| "file".into());
            Some(format!("store-{backend}"))
        }
        role => Some(role.to_string()),
    }
}

fn with_margin(bytes: u64) -> u64 {
    bytes * (100 + MARGIN_PERCENT) / 100
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / MIB as f64)
}

fn memory_of(c: &serde_json::Value, kind: &str) -> Option<u64> {
    c["resources"][kind]["memory"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            c["resources"][kind]["memory"]
                .as_u64()
                .map(|n| n.to_string())
        })
        .and_then(|q| quantity_bytes(&q))
}

/// Every sa-server container requests at least its measured idle memory and is limited to at
/// least its measured peak plus the margin.
pub fn memory_follows_measurements(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for pod in m.pod_templates() {
        for c in pod.containers() {
            let Some(role) = role_key(m, &pod, c) else {
                continue;
            };
            let id = format!(
                "{} {}/{}",
                pod.kind,
                pod.name,
                c["name"].as_str().unwrap_or("?")
            );
            let Some(measured) = MEASURED.iter().find(|f| f.role == role) else {
                problems.push(format!("{id}: no measured memory for role {role}"));
                continue;
            };
            let (Some(request), Some(limit)) = (memory_of(c, "requests"), memory_of(c, "limits"))
            else {
                problems.push(format!(
                    "{id}: memory request or limit missing or unreadable"
                ));
                continue;
            };
            if request < measured.idle {
                problems.push(format!(
                    "{id}: requests {} of memory, under the {} it was measured to use idle",
                    mib(request),
                    mib(measured.idle)
                ));
            }
            if request > limit {
                problems.push(format!("{id}: requests more memory than its limit"));
            }
            if limit < with_margin(measured.loaded) {
                problems.push(format!(
                    "{id}: memory limit {} is under its measured peak {} plus {MARGIN_PERCENT} %",
                    mib(limit),
                    mib(measured.loaded)
                ));
            }
        }
    }
    problems
}

/// A file store sets its cache budget (`SA_CACHE_BYTES`) explicitly, and its memory limit holds
/// the budget, the index of [`FILE_STORE_MODELS`] models and the runtime's measured peak, plus
/// the margin. Without it the budget defaults to a quarter of the limit, and the index's growth
/// is what gets the pod OOM-killed.
pub fn file_store_memory_fits(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let runtime = MEASURED
        .iter()
        .find(|f| f.role == "store-file")
        .map_or(0, |f| f.loaded);
    let index = INDEX_BYTES_PER_MODEL * FILE_STORE_MODELS;
    for pod in m.pod_templates() {
        for c in pod.containers() {
            if role_key(m, &pod, c).as_deref() != Some("store-file") {
                continue;
            }
            let id = format!("{} {}", pod.kind, pod.name);
            let Some(raw) = m.flag(pod.namespace, c, "--cache-bytes", "SA_CACHE_BYTES") else {
                problems.push(format!(
                    "{id}: the file store does not set SA_CACHE_BYTES (its cache budget)"
                ));
                continue;
            };
            // What the server parses: a plain count of bytes (no `Mi`).
            let Ok(budget) = raw.trim().parse::<u64>() else {
                problems.push(format!(
                    "{id}: SA_CACHE_BYTES {raw:?} is not a whole number of bytes, so the store would not start"
                ));
                continue;
            };
            let need = with_margin(budget + index + runtime);
            match memory_of(c, "limits") {
                None => problems.push(format!("{id}: no memory limit")),
                Some(limit) if limit < need => problems.push(format!(
                    "{id}: memory limit {} is under cache {} + index of {FILE_STORE_MODELS} models {} + runtime {} + {MARGIN_PERCENT} % = {}",
                    mib(limit),
                    mib(budget),
                    mib(index),
                    mib(runtime),
                    mib(need)
                )),
                Some(_) => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::quantity_bytes;

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("256Mi"), Some(256 << 20));
        assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
        assert_eq!(quantity_bytes("500M"), Some(500_000_000));
        assert_eq!(quantity_bytes("67108864"), Some(64 << 20));
        assert_eq!(quantity_bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(quantity_bytes("1e6"), Some(1_000_000));
        assert_eq!(quantity_bytes("12Xi"), None);
    }
}
