//! The VirtualServices hold exactly the rules of `sa_shared::routes`, the table `sa-server dev`
//! routes by: each broken copy below (one weight, one header, one delay...) is caught.
mod common;

use common::{assert_caught, assert_holds, doc, overlay, set, store_route};
use serde_json::json;

#[test]
fn the_rendered_store_rules_are_the_table_at_each_overlays_weight() {
    for m in common::rendered() {
        let w = sa_k8s::checks::tables::canary_weight(&m.overlay);
        let want = sa_k8s::checks::tables::expected_store_rules(w);
        // 4 prefixes x 4 rules: delay, abort, canary, weighted.
        assert_eq!(want.len(), 16);
        assert!(sa_k8s::checks::run("store_rules_match_table", m).is_empty());
    }
    assert_eq!(sa_k8s::checks::tables::canary_weight("minikube"), 10);
    assert_holds("client_rules_match_table");
}

#[test]
fn one_changed_weight_is_caught_even_when_it_still_adds_up() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "redis");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/route/0/weight"),
        json!(80),
    );
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/route/1/weight"),
        json!(20),
    );
    assert!(sa_k8s::checks::run("weights_sum_to_100", &m).is_empty());
    assert_caught("store_rules_match_table", &m, "http[7]");
}

#[test]
fn one_changed_header_is_caught() {
    let mut m = overlay("production");
    let i = store_route(&m, "sql-canary");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/match/0/headers/x-sa-channel/exact"),
        json!("beta"),
    );
    assert_caught("store_rules_match_table", &m, "x-sa-channel exact=beta");

    let mut m = overlay("minikube");
    set(
        &mut m,
        "VirtualService",
        "client",
        "/spec/http/0/match/0/headers/user-agent/regex",
        json!(".*(iPhone|Android).*"),
    );
    assert_caught("client_rules_match_table", &m, "user-agent regex");
}

#[test]
fn a_changed_fault_is_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "api-test-delay");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/fault/delay/fixedDelay"),
        json!("3s"),
    );
    assert_caught("store_rules_match_table", &m, "delay 3000ms");

    let mut m = overlay("minikube");
    let i = store_route(&m, "file-test-abort");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/fault/abort/percentage/value"),
        json!(50),
    );
    assert_caught("store_rules_match_table", &m, "abort 503 50%");
}

#[test]
fn a_wrong_or_missing_upstream_header_is_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "file");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/route/1/headers/response/set/x-sa-upstream"),
        json!("store-file v1"),
    );
    assert_caught(
        "destinations_say_their_upstream",
        &m,
        "expected \"store-file v2\"",
    );

    let mut m = overlay("production");
    let vs = doc(&mut m, "VirtualService", "auth");
    vs["spec"]["http"][0]["route"][0]
        .as_object_mut()
        .unwrap()
        .remove("headers");
    assert_caught("destinations_say_their_upstream", &m, "expected \"auth\"");
}

#[test]
fn a_subset_not_taken_from_the_version_label_is_caught() {
    let mut m = overlay("minikube");
    let d = doc(&mut m, "Deployment", "store-redis-v2");
    let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap();
    let e = env.iter_mut().find(|e| e["name"] == "SA_SUBSET").unwrap();
    *e = json!({"name": "SA_SUBSET", "value": "v1"});
    assert_caught("store_subset_is_version_label", &m, "store-redis-v2");
}
