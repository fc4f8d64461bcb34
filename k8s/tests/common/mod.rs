//! Renders each overlay once per test binary and gives tests copies to check or break.
#![allow(dead_code)]
use std::sync::OnceLock;

use sa_k8s::{checks, render, Manifests, OVERLAYS};
use serde_json::Value;

pub fn rendered() -> &'static [Manifests] {
    static RENDERED: OnceLock<Vec<Manifests>> = OnceLock::new();
    RENDERED.get_or_init(|| {
        OVERLAYS
            .iter()
            .map(|o| {
                render::render_overlay(o).unwrap_or_else(|e| panic!("rendering overlay {o}: {e}"))
            })
            .collect()
    })
}

/// A private copy of one overlay's render.
pub fn overlay(name: &str) -> Manifests {
    rendered()
        .iter()
        .find(|m| m.overlay == name)
        .unwrap_or_else(|| panic!("no overlay {name}"))
        .clone()
}

/// Runs check `name` on every overlay and fails with everything it found.
pub fn assert_holds(name: &str) {
    for m in rendered() {
        let problems = checks::run(name, m);
        assert!(
            problems.is_empty(),
            "overlay {}: {name} found:\n  {}",
            m.overlay,
            problems.join("\n  ")
        );
    }
}

/// Asserts that check `name` reports a problem on `m`, one mentioning `needle`.
pub fn assert_caught(name: &str, m: &Manifests, needle: &str) {
    let problems = checks::run(name, m);
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "{name} should have caught the broken copy (expected a problem mentioning {needle:?}), found: {problems:#?}"
    );
}

pub fn doc<'a>(m: &'a mut Manifests, kind: &str, name: &str) -> &'a mut Value {
    m.find_mut(kind, name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the render"))
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Sets the value at a JSON pointer inside a document; a missing last object member is added.
pub fn set(m: &mut Manifests, kind: &str, name: &str, pointer: &str, value: Value) {
    let d = doc(m, kind, name);
    if let Some(slot) = d.pointer_mut(pointer) {
        *slot = value;
        return;
    }
    let (parent, last) = pointer.rsplit_once('/').expect("a pointer with a parent");
    match d.pointer_mut(parent) {
        Some(Value::Object(o)) => {
            o.insert(unescape(last), value);
        }
        _ => panic!("{kind} {name} has no object at {parent}"),
    }
}

/// Removes the field at a JSON pointer (an object member or an array element).
pub fn remove(m: &mut Manifests, kind: &str, name: &str, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').expect("a pointer with a parent");
    let d = doc(m, kind, name);
    let p = d
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{kind} {name} has nothing at {parent}"));
    let removed = match p {
        Value::Object(o) => o.remove(&unescape(last)).is_some(),
        Value::Array(a) => {
            let i: usize = last.parse().expect("an array index");
            i < a.len() && {
                a.remove(i);
                true
            }
        }
        _ => false,
    };
    assert!(removed, "{kind} {name} has nothing to remove at {pointer}");
}

/// The index of the first store VirtualService route named `route`.
pub fn store_route(m: &Manifests, route: &str) -> usize {
    let vs = m
        .find("VirtualService", "store")
        .expect("the store VirtualService");
    vs["spec"]["http"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["name"] == route)
        .unwrap_or_else(|| panic!("no store route {route}"))
}

/// The index of `flag=…` in the first container's args of a Deployment.
pub fn arg_index(m: &Manifests, deployment: &str, flag: &str) -> usize {
    let d = m.find("Deployment", deployment).expect("the Deployment");
    d["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .position(|a| {
            a.as_str()
                .is_some_and(|a| a.starts_with(&format!("{flag}=")))
        })
        .unwrap_or_else(|| panic!("{deployment} has no {flag}"))
}
