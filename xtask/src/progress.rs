//! One progress line per step, with how long it took.
use std::time::Instant;

pub fn step<T>(what: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    println!("==> {what}…");
    let t = Instant::now();
    let r = f();
    match &r {
        Ok(_) => println!("    done: {what} ({:.1}s)", t.elapsed().as_secs_f64()),
        Err(e) => println!("    FAILED: {what}: {e:#}"),
    }
    r
}

pub fn note(msg: &str) {
    println!("==> {msg}");
}
