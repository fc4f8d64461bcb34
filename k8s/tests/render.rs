//! Every overlay renders, its YAML has no duplicate keys, and every document passes its strict
//! schema (an unknown apiVersion/kind is a failure, not a skip).
mod common;

use sa_k8s::{render, schema::Validators, OVERLAYS};
use serde_json::json;

#[test]
fn every_overlay_renders() {
    let rendered = common::rendered();
    assert_eq!(rendered.len(), OVERLAYS.len());
    for m in rendered {
        let kinds: Vec<&str> = m.docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        for kind in [
            "Namespace",
            "Deployment",
            "Service",
            "Gateway",
            "VirtualService",
            "DestinationRule",
            "RequestAuthentication",
            "AuthorizationPolicy",
            "PeerAuthentication",
            "Telemetry",
            "ConfigMap",
        ] {
            assert!(
                kinds.contains(&kind),
                "overlay {}: no {kind} rendered",
                m.overlay
            );
        }
    }
}

#[test]
fn overlays_differ_where_they_should() {
    let mk = common::overlay("minikube");
    let prod = common::overlay("production");
    assert_eq!(mk.public(), Some(("sa.localhost".into(), "http".into())));
    assert_eq!(
        prod.public(),
        Some(("sa.softwarebynumbers.com".into(), "https".into()))
    );
    assert!(
        mk.find("StatefulSet", "redis").is_some() && mk.find("StatefulSet", "postgres").is_some()
    );
    let redis_args = &mk.find("StatefulSet", "redis").unwrap()["spec"]["template"]["spec"]
        ["containers"][0]["args"];
    assert!(
        redis_args.to_string().contains(r#""--appendonly","yes""#),
        "Redis runs with AOF on: {redis_args}"
    );
    assert!(
        prod.find("StatefulSet", "redis").is_none(),
        "production uses managed Redis/PostgreSQL"
    );
    assert!(prod.find("ClusterIssuer", "letsencrypt").is_some());
    assert_eq!(prod.of_kind("Certificate").count(), 4);
    assert!(mk.of_kind("Certificate").next().is_none());
}

#[test]
fn the_yaml_reader_rejects_duplicate_keys() {
    let err =
        render::parse_documents("a: 1\nb: 2\na: 3\n").expect_err("a repeated key must be an error");
    assert!(err.contains("duplicate"), "{err}");
    let err = render::parse_documents("x: {}\n---\nspec:\n  hosts: [a]\n  hosts: [b]\n")
        .expect_err("also in a later, nested document");
    assert!(err.contains("document 2"), "{err}");
    assert_eq!(
        render::parse_documents("a: 1\n---\n---\nb: [1, 2]\n").unwrap(),
        vec![json!({"a": 1}), json!({"b": [1, 2]})]
    );
}

#[test]
fn source_yaml_has_no_duplicate_keys() {
    let files = render::source_yaml_files();
    assert!(files.len() > 10, "found only {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        if let Err(e) = render::parse_documents(&text) {
            panic!("{}: {e}", f.display());
        }
    }
}

#[test]
fn rendered_yaml_has_no_duplicate_keys() {
    for o in OVERLAYS {
        let text = render::kustomize(&sa_k8s::k8s_dir().join("overlays").join(o)).unwrap();
        render::parse_documents(&text).unwrap_or_else(|e| panic!("overlay {o}: {e}"));
    }
}

#[test]
fn every_document_matches_its_schema() {
    let mut v = Validators::new();
    for m in common::rendered() {
        let problems: Vec<String> = m.docs.iter().flat_map(|d| v.validate(d)).collect();
        assert!(
            problems.is_empty(),
            "overlay {}:\n  {}",
            m.overlay,
            problems.join("\n  ")
        );
    }
}

#[test]
fn schema_validation_catches_typos_and_unknown_kinds() {
    let mut v = Validators::new();
    let m = common::overlay("minikube");
    let gw = m.find("Gateway", "sa-gateway").unwrap().clone();
    assert!(v.validate(&gw).is_empty());

    let mut typo = gw.clone();
    typo["spec"]["servers"][0]["host"] = json!(["store.sa.localhost"]);
    assert!(
        v.validate(&typo).iter().any(|p| p.contains("host")),
        "servers[].host must fail"
    );

    let mut old_api = gw.clone();
    old_api["apiVersion"] = json!("networking.istio.io/v1alpha3");
    assert!(
        v.validate(&old_api).iter().any(|p| p.contains("no schema")),
        "v1alpha3 must fail"
    );

    let unknown = json!({"apiVersion": "rbac.istio.io/v1alpha1", "kind": "ServiceRole", "metadata": {"name": "x"}});
    assert!(v.validate(&unknown).iter().any(|p| p.contains("no schema")));

    let mut dep = m.find("Deployment", "store-file").unwrap().clone();
    dep["spec"]["replica"] = json!(2);
    assert!(
        !v.validate(&dep).is_empty(),
        "Deployment spec.replica must fail"
    );

    let mut bad_enum = m.find("PeerAuthentication", "default").unwrap().clone();
    bad_enum["spec"]["mtls"]["mode"] = json!("STRICTER");
    assert!(
        !v.validate(&bad_enum).is_empty(),
        "an unknown mTLS mode must fail"
    );
}
