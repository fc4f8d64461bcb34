//! Each invariant check catches a broken copy of the rendered manifests.
mod common;

use common::{assert_caught, doc, overlay, remove, set, store_route};
use serde_json::json;

#[test]
fn a_second_gateway_on_a_host_is_caught() {
    let mut m = overlay("minikube");
    let mut twin = m.find("Gateway", "sa-client-gateway").unwrap().clone();
    twin["metadata"]["name"] = json!("client-gateway-old");
    twin["metadata"]["namespace"] = json!("istio-system");
    m.docs.push(twin);
    assert_caught(
        "one_gateway_per_host",
        &m,
        "client.sa.localhost is served by 2 Gateways",
    );
}

#[test]
fn a_dangling_gateway_reference_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "VirtualService",
        "client",
        "/spec/gateways/0",
        json!("sa-client-gateway"),
    );
    assert_caught(
        "gateway_refs_resolve",
        &m,
        "sa/sa-client-gateway, which is not in the render",
    );
}

#[test]
fn a_vs_host_its_gateway_does_not_serve_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "VirtualService",
        "explorer",
        "/spec/hosts/0",
        json!("explorer.example.org"),
    );
    assert_caught("gateway_refs_resolve", &m, "not served by its Gateway");
}

#[test]
fn a_host_with_a_port_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Gateway",
        "sa-gateway",
        "/spec/servers/0/hosts/0",
        json!("store.sa.localhost:80"),
    );
    assert_caught("hosts_have_no_port_or_wildcard", &m, "carries a port");
}

#[test]
fn a_wildcard_host_is_caught() {
    let mut m = overlay("production");
    set(
        &mut m,
        "VirtualService",
        "auth",
        "/spec/hosts/0",
        json!("*"),
    );
    assert_caught("hosts_have_no_port_or_wildcard", &m, "contains `*`");
    let mut m = overlay("production");
    set(
        &mut m,
        "Certificate",
        "sa-auth-tls",
        "/spec/dnsNames/0",
        json!("*.sa.softwarebynumbers.com"),
    );
    assert_caught("hosts_have_no_port_or_wildcard", &m, "contains `*`");
}

#[test]
fn a_gateway_port_that_does_not_fit_the_scheme_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Gateway",
        "sa-gateway",
        "/spec/servers/0/port/number",
        json!(8080),
    );
    assert_caught("gateway_ports_fit_scheme", &m, "port 8080");

    let mut m = overlay("production");
    set(
        &mut m,
        "Gateway",
        "sa-gateway",
        "/spec/servers/0/tls/credentialName",
        json!("sa-stor-tls"),
    );
    assert_caught(
        "gateway_ports_fit_scheme",
        &m,
        "is not the secret of a Certificate",
    );

    let mut m = overlay("production");
    remove(&mut m, "Gateway", "auth-gateway", "/spec/servers/1");
    assert_caught("gateway_ports_fit_scheme", &m, "redirect");

    let mut m = overlay("production");
    set(
        &mut m,
        "Certificate",
        "sa-client-tls",
        "/spec/dnsNames/0",
        json!("explorer.sa.softwarebynumbers.com"),
    );
    assert_caught("gateway_ports_fit_scheme", &m, "does not cover hosts");
}

#[test]
fn a_destination_to_a_missing_service_or_port_is_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "redis");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/route/0/destination/host"),
        json!("store-redis-x.sa.svc.cluster.local"),
    );
    assert_caught("destinations_resolve", &m, "is no Service in the render");

    let mut m = overlay("minikube");
    set(
        &mut m,
        "VirtualService",
        "auth",
        "/spec/http/0/route/0/destination/port/number",
        json!(80),
    );
    assert_caught(
        "destinations_resolve",
        &m,
        "port 80 is not a port of Service sa/auth",
    );
}

#[test]
fn a_missing_subset_or_one_without_pods_is_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "sql-canary");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/route/0/destination/subset"),
        json!("v3"),
    );
    assert_caught(
        "subsets_exist_and_match_pods",
        &m,
        "subset v3 of store-sql.sa.svc.cluster.local is declared by no DestinationRule",
    );

    let mut m = overlay("minikube");
    set(
        &mut m,
        "DestinationRule",
        "store-file",
        "/spec/subsets/1/labels/version",
        json!("v9"),
    );
    assert_caught(
        "subsets_exist_and_match_pods",
        &m,
        "matches no pod template",
    );
}

#[test]
fn weights_off_100_are_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "file");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/route/1/weight"),
        json!(0),
    );
    assert_caught("weights_sum_to_100", &m, "do not add up to 100");
}

#[test]
fn a_fault_on_untagged_requests_is_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "redis-test-abort");
    remove(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/match/0/headers"),
    );
    assert_caught(
        "faults_only_for_tagged_requests",
        &m,
        "without the x-sa-test header",
    );
}

#[test]
fn missing_or_shadowed_canary_and_fault_routes_are_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "sql-canary");
    remove(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}"),
    );
    assert_caught(
        "store_feature_routes",
        &m,
        "prefix /sql/ has no a canary route to v2",
    );

    // The catch-all first: the tagged routes behind it are never reached.
    let mut m = overlay("minikube");
    let vs = doc(&mut m, "VirtualService", "store");
    let http = vs["spec"]["http"].as_array_mut().unwrap();
    let i = http.iter().position(|r| r["name"] == "file").unwrap();
    let catch_all = http.remove(i);
    http.insert(0, catch_all);
    assert_caught(
        "store_feature_routes",
        &m,
        "prefix /file/: a delay fault comes after the catch-all route",
    );
}

#[test]
fn a_route_timeout_or_short_idle_timeout_on_the_store_is_caught() {
    let mut m = overlay("minikube");
    let i = store_route(&m, "redis");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/timeout"),
        json!("30s"),
    );
    assert_caught(
        "store_routes_allow_streams",
        &m,
        "route redis: timeout \"30s\" would cut the change feed",
    );
    let mut m = overlay("minikube");
    set(
        &mut m,
        "DestinationRule",
        "store-sql",
        "/spec/trafficPolicy/connectionPool/http/idleTimeout",
        json!("10s"),
    );
    assert_caught(
        "store_routes_allow_streams",
        &m,
        "must be above the feed's 15 s keep-alive",
    );
}

#[test]
fn a_mobile_subset_serving_the_standard_layout_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "DestinationRule",
        "client",
        "/spec/subsets/1/labels/layout",
        json!("standard"),
    );
    assert_caught(
        "mobile_subset_is_compact",
        &m,
        "serves layout standard, expected compact",
    );

    let mut m = overlay("minikube");
    remove(&mut m, "VirtualService", "client", "/spec/http/0");
    assert_caught(
        "mobile_subset_is_compact",
        &m,
        "no route sends a user-agent match to subset mobile",
    );
}

#[test]
fn a_regex_envoy_would_reject_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "VirtualService",
        "client",
        "/spec/http/0/match/0/headers/user-agent/regex",
        json!("(?=.*Mobile).*"),
    );
    assert_caught("regexes_are_re2", &m, "is not RE2");
}

#[test]
fn jwt_policies_not_on_the_store_pods_are_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "RequestAuthentication",
        "store-jwt",
        "/spec/selector/matchLabels",
        json!({"app": "store-file"}),
    );
    assert_caught(
        "auth_policies_select_store_pods",
        &m,
        "RequestAuthentication sa/store-jwt selects",
    );

    let mut m = overlay("minikube");
    remove(
        &mut m,
        "AuthorizationPolicy",
        "store-access",
        "/spec/selector",
    );
    assert_caught(
        "auth_policies_select_store_pods",
        &m,
        "applies to the whole namespace",
    );
}

#[test]
fn a_wrong_jwks_uri_is_caught() {
    for (uri, needle) in [
        (
            "http://auth.sa.localhost/.well-known/jwks.json",
            "not a full in-cluster Service name",
        ),
        (
            "http://auth.sa.svc.cluster.local/.well-known/jwks.json",
            "must name a port",
        ),
        (
            "http://auth.sa.svc.cluster.local:80/.well-known/jwks.json",
            "must name a port",
        ),
        (
            "http://auth.sa.svc.cluster.local:8080/jwks.json",
            "is not /.well-known/jwks.json",
        ),
        (
            "http://store-file.sa.svc.cluster.local:8080/.well-known/jwks.json",
            "does not front the auth pods",
        ),
    ] {
        let mut m = overlay("minikube");
        set(
            &mut m,
            "RequestAuthentication",
            "store-jwt",
            "/spec/jwtRules/0/jwksUri",
            json!(uri),
        );
        assert_caught("jwks_uri_is_auth_service", &m, needle);
    }
}

#[test]
fn request_authentication_gaps_are_caught() {
    let mut m = overlay("production");
    set(
        &mut m,
        "RequestAuthentication",
        "store-jwt",
        "/spec/jwtRules/0/issuer",
        json!("http://auth.sa.softwarebynumbers.com"),
    );
    assert_caught(
        "request_authentication_rules",
        &m,
        "is not https://auth.sa.softwarebynumbers.com",
    );

    let mut m = overlay("minikube");
    remove(
        &mut m,
        "RequestAuthentication",
        "store-jwt",
        "/spec/jwtRules/0/fromParams",
    );
    assert_caught("request_authentication_rules", &m, "access_token");

    let mut m = overlay("minikube");
    set(
        &mut m,
        "RequestAuthentication",
        "store-jwt",
        "/spec/jwtRules/0/forwardOriginalToken",
        json!(false),
    );
    assert_caught("request_authentication_rules", &m, "forwardOriginalToken");

    let mut m = overlay("minikube");
    let i = common::arg_index(&m, "store-file", "--issuer");
    set(
        &mut m,
        "Deployment",
        "store-file",
        &format!("/spec/template/spec/containers/0/args/{i}"),
        json!("--issuer=http://auth.sa.svc.cluster.local:8080"),
    );
    assert_caught(
        "request_authentication_rules",
        &m,
        "store store-file: --issuer is Some(\"http://auth.sa.svc.cluster.local:8080\")",
    );

    let mut m = overlay("minikube");
    let i = common::arg_index(&m, "store-redis-v2", "--jwks-url");
    set(
        &mut m,
        "Deployment",
        "store-redis-v2",
        &format!("/spec/template/spec/containers/0/args/{i}"),
        json!("--jwks-url=http://auth.sa.localhost/.well-known/jwks.json"),
    );
    assert_caught(
        "jwks_uri_is_auth_service",
        &m,
        "store store-redis-v2 fetches keys from",
    );
}

#[test]
fn loose_authorization_rules_are_caught() {
    // Writes without the writer role.
    let mut m = overlay("minikube");
    remove(
        &mut m,
        "AuthorizationPolicy",
        "store-access",
        "/spec/rules/3/when",
    );
    assert_caught(
        "authorization_rules",
        &m,
        "without requiring request.auth.claims[roles]",
    );

    // A rule that lets anyone do anything.
    let mut m = overlay("minikube");
    doc(&mut m, "AuthorizationPolicy", "store-access")["spec"]["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({}));
    assert_caught("authorization_rules", &m, "without a token through");

    // Health endpoints behind a token.
    let mut m = overlay("minikube");
    remove(
        &mut m,
        "AuthorizationPolicy",
        "store-access",
        "/spec/rules/0",
    );
    assert_caught(
        "authorization_rules",
        &m,
        "/healthz and /readyz are not open",
    );
}

#[test]
fn source_ip_rules_are_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "AuthorizationPolicy",
        "store-access",
        "/spec/rules/2/from/0/source/ipBlocks",
        json!(["10.0.0.0/8"]),
    );
    assert_caught("no_source_ip_rules", &m, "source.ipBlocks");

    let mut m = overlay("minikube");
    set(
        &mut m,
        "AuthorizationPolicy",
        "store-access",
        "/spec/rules/2/when",
        json!([{"key": "source.ip", "values": ["10.0.0.1"]}]),
    );
    assert_caught("no_source_ip_rules", &m, "condition on source.ip");
}

#[test]
fn relaxed_mtls_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "PeerAuthentication",
        "default",
        "/spec/mtls/mode",
        json!("PERMISSIVE"),
    );
    assert_caught(
        "peer_authentication_strict",
        &m,
        "relaxes mTLS to \"PERMISSIVE\"",
    );
}

#[test]
fn probes_on_other_paths_are_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Deployment",
        "auth",
        "/spec/template/spec/containers/0/readinessProbe/httpGet/path",
        json!("/health"),
    );
    assert_caught(
        "probes_use_health_endpoints",
        &m,
        "readinessProbe asks /health",
    );

    let mut m = overlay("production");
    remove(
        &mut m,
        "Deployment",
        "explorer",
        "/spec/template/spec/containers/0/livenessProbe",
    );
    assert_caught(
        "probes_use_health_endpoints",
        &m,
        "livenessProbe must GET /healthz",
    );
}

#[test]
fn unhardened_containers_are_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "StatefulSet",
        "redis",
        "/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem",
        json!(false),
    );
    assert_caught(
        "containers_hardened",
        &m,
        "StatefulSet redis/redis: readOnlyRootFilesystem is not true",
    );

    let mut m = overlay("minikube");
    remove(
        &mut m,
        "Deployment",
        "store-sql",
        "/spec/template/spec/securityContext/runAsNonRoot",
    );
    remove(
        &mut m,
        "Deployment",
        "store-sql",
        "/spec/template/spec/containers/0/securityContext/runAsNonRoot",
    );
    assert_caught(
        "containers_hardened",
        &m,
        "store-sql/sa-server: runAsNonRoot is not true",
    );

    let mut m = overlay("production");
    set(
        &mut m,
        "Deployment",
        "client",
        "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
        json!(true),
    );
    set(
        &mut m,
        "Deployment",
        "client",
        "/spec/template/spec/containers/0/securityContext/capabilities",
        json!({"add": ["NET_ADMIN"]}),
    );
    assert_caught(
        "containers_hardened",
        &m,
        "allowPrivilegeEscalation is not false",
    );
    assert_caught("containers_hardened", &m, "capabilities are not dropped");
}

#[test]
fn pinned_or_hand_injected_sidecars_are_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Deployment",
        "auth",
        "/spec/template/metadata/annotations",
        json!({"sidecar.istio.io/proxyImage": "docker.io/istio/proxyv2:1.20.0"}),
    );
    assert_caught("no_pinned_sidecars", &m, "pins or disables the sidecar");

    let mut m = overlay("minikube");
    let proxy = json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.20.0"});
    doc(&mut m, "Deployment", "explorer")["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(proxy);
    assert_caught("no_pinned_sidecars", &m, "hand-injected");

    let mut m = overlay("minikube");
    set(
        &mut m,
        "Namespace",
        "sa",
        "/metadata/labels/istio.io~1rev",
        json!("1-20"),
    );
    assert_caught(
        "no_pinned_sidecars",
        &m,
        "both istio-injection and istio.io/rev",
    );
}

#[test]
fn unscraped_store_pods_and_missing_access_logs_are_caught() {
    let mut m = overlay("minikube");
    remove(
        &mut m,
        "Deployment",
        "store-sql-v2",
        "/spec/template/metadata/annotations/prometheus.io~1scrape",
    );
    assert_caught("telemetry_and_scraping", &m, "store-sql-v2: not scraped");

    let mut m = overlay("minikube");
    m.docs.retain(|d| d["kind"] != "Telemetry");
    assert_caught("telemetry_and_scraping", &m, "access logging");
}

#[test]
fn a_file_store_with_two_writers_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Deployment",
        "store-file",
        "/spec/replicas",
        json!(2),
    );
    assert_caught("file_store_single_writer", &m, "two writers");

    let mut m = overlay("minikube");
    set(
        &mut m,
        "Deployment",
        "store-file",
        "/spec/strategy",
        json!({"type": "RollingUpdate"}),
    );
    assert_caught("file_store_single_writer", &m, "not Recreate");

    let mut m = overlay("minikube");
    for v in doc(&mut m, "Deployment", "store-file-v2")["spec"]["template"]["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
    {
        if v["persistentVolumeClaim"].is_object() {
            v["persistentVolumeClaim"]["claimName"] = json!("store-file-data");
        }
    }
    assert_caught(
        "file_store_single_writer",
        &m,
        "is shared with another file store",
    );

    let mut m = overlay("production");
    let mut hpa = m
        .find("HorizontalPodAutoscaler", "store-sql")
        .unwrap()
        .clone();
    hpa["metadata"]["name"] = json!("store-file");
    hpa["spec"]["scaleTargetRef"]["name"] = json!("store-file");
    m.docs.push(hpa);
    assert_caught(
        "file_store_single_writer",
        &m,
        "autoscales the single-writer file store",
    );
}

#[test]
fn missing_scaling_and_dangling_targets_are_caught() {
    let mut m = overlay("production");
    m.docs.retain(|d| {
        !(d["kind"] == "HorizontalPodAutoscaler" && d["metadata"]["name"] == "explorer")
    });
    assert_caught(
        "scaling_targets_resolve",
        &m,
        "Deployment explorer: needs a HorizontalPodAutoscaler",
    );

    let mut m = overlay("production");
    set(
        &mut m,
        "HorizontalPodAutoscaler",
        "client",
        "/spec/scaleTargetRef/name",
        json!("clients"),
    );
    assert_caught(
        "scaling_targets_resolve",
        &m,
        "scale target clients is no Deployment",
    );

    let mut m = overlay("production");
    remove(
        &mut m,
        "PodDisruptionBudget",
        "client",
        "/spec/selector/matchLabels/layout",
    );
    assert_caught("scaling_targets_resolve", &m, "selects 2 pod templates");
}

#[test]
fn dangling_config_and_secret_references_are_caught() {
    let mut m = overlay("minikube");
    let secret = m
        .of_kind("Secret")
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .next()
        .unwrap();
    remove(&mut m, "Secret", &secret, "/data/database-url");
    assert_caught("config_refs_resolve", &m, "has no key database-url");

    let mut m = overlay("production");
    set(
        &mut m,
        "Deployment",
        "explorer",
        "/spec/template/spec/containers/0/envFrom/0/configMapRef/name",
        json!("sa-publik"),
    );
    assert_caught(
        "config_refs_resolve",
        &m,
        "ConfigMap sa-publik is not in the render",
    );

    let mut m = overlay("minikube");
    m.docs.retain(|d| {
        !(d["kind"] == "PersistentVolumeClaim" && d["metadata"]["name"] == "auth-data")
    });
    assert_caught(
        "config_refs_resolve",
        &m,
        "PersistentVolumeClaim auth-data is not in the render",
    );
}

#[test]
fn a_store_route_table_drifting_from_sa_shared_is_caught() {
    // A renamed prefix.
    let mut m = overlay("minikube");
    let vs = doc(&mut m, "VirtualService", "store");
    for r in vs["spec"]["http"].as_array_mut().unwrap() {
        if r["match"][0]["uri"]["prefix"] == "/redis/" {
            r["match"][0]["uri"]["prefix"] = json!("/kv/");
        }
    }
    assert_caught(
        "store_routes_match_table",
        &m,
        "but sa_shared::routes::STORE_ROUTES",
    );

    // The legacy /api/ route rewritten (it must stay unchanged).
    let mut m = overlay("minikube");
    let i = store_route(&m, "api");
    set(
        &mut m,
        "VirtualService",
        "store",
        &format!("/spec/http/{i}/rewrite"),
        json!({"uri": "/"}),
    );
    assert_caught(
        "store_routes_match_table",
        &m,
        "disagrees with an earlier route",
    );

    // A prefix that is not stripped, or sent to another backend.
    let mut m = overlay("production");
    for name in ["sql-test-delay", "sql-test-abort", "sql-canary", "sql"] {
        let i = store_route(&m, name);
        remove(
            &mut m,
            "VirtualService",
            "store",
            &format!("/spec/http/{i}/rewrite"),
        );
    }
    assert_caught(
        "store_routes_match_table",
        &m,
        "keeps /sql/ but lets a client's x-forwarded-prefix through",
    );
    let mut m = overlay("production");
    for name in ["file-test-delay", "file-test-abort", "file-canary", "file"] {
        let i = store_route(&m, name);
        let vs = doc(&mut m, "VirtualService", "store");
        for d in vs["spec"]["http"][i]["route"].as_array_mut().unwrap() {
            d["destination"]["host"] = json!("store-redis.sa.svc.cluster.local");
        }
    }
    assert_caught(
        "store_routes_match_table",
        &m,
        "but sa_shared::routes::STORE_ROUTES",
    );
}

#[test]
fn a_host_table_drifting_from_sa_shared_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Gateway",
        "sa-explorer-gateway",
        "/metadata/namespace",
        json!("sacl"),
    );
    set(
        &mut m,
        "VirtualService",
        "explorer",
        "/spec/gateways/0",
        json!("sacl/sa-explorer-gateway"),
    );
    assert_caught("hosts_match_table", &m, "host explorer.sa.localhost: Gateways [\"sacl/sa-explorer-gateway\"], the table says [saex/sa-explorer-gateway]");

    let mut m = overlay("production");
    set(
        &mut m,
        "VirtualService",
        "auth",
        "/spec/http/0/route/0/destination/host",
        json!("client.sa.svc.cluster.local"),
    );
    assert_caught(
        "hosts_match_table",
        &m,
        "routes to {\"client\"}, expected {\"auth\"}",
    );

    let mut m = overlay("minikube");
    doc(&mut m, "Gateway", "sa-gateway")["spec"]["servers"][0]["hosts"]
        .as_array_mut()
        .unwrap()
        .push(json!("api.sa.localhost"));
    assert_caught(
        "hosts_match_table",
        &m,
        "serves api.sa.localhost, which is not in sa_shared::routes::HOSTS",
    );
}

#[test]
fn a_file_store_limit_without_room_for_its_cache_and_index_is_caught() {
    let limit = "/spec/template/spec/containers/0/resources/limits/memory";
    let mut m = overlay("minikube");
    set(&mut m, "Deployment", "store-file", limit, json!("128Mi"));
    assert_caught(
        "file_store_memory_fits",
        &m,
        "Deployment store-file: memory limit 128 MiB is under cache",
    );

    let mut m = overlay("production");
    let env = doc(&mut m, "Deployment", "store-file-v2")["spec"]["template"]["spec"]["containers"]
        [0]["env"]
        .as_array_mut()
        .unwrap();
    env.retain(|e| e["name"] != "SA_CACHE_BYTES");
    assert_caught(
        "file_store_memory_fits",
        &m,
        "Deployment store-file-v2: the file store does not set SA_CACHE_BYTES",
    );

    let mut m = overlay("minikube");
    let env = doc(&mut m, "Deployment", "store-file")["spec"]["template"]["spec"]["containers"][0]
        ["env"]
        .as_array_mut()
        .unwrap();
    for e in env.iter_mut().filter(|e| e["name"] == "SA_CACHE_BYTES") {
        e["value"] = json!("64Mi");
    }
    assert_caught(
        "file_store_memory_fits",
        &m,
        "SA_CACHE_BYTES \"64Mi\" is not a whole number of bytes",
    );
}

#[test]
fn memory_below_what_a_role_was_measured_to_use_is_caught() {
    let mut m = overlay("minikube");
    set(
        &mut m,
        "Deployment",
        "auth",
        "/spec/template/spec/containers/0/resources/requests/memory",
        json!("4Mi"),
    );
    assert_caught(
        "memory_follows_measurements",
        &m,
        "Deployment auth/sa-server: requests 4 MiB of memory, under the",
    );

    let mut m = overlay("production");
    set(
        &mut m,
        "Deployment",
        "store-redis",
        "/spec/template/spec/containers/0/resources/limits/memory",
        json!("16Mi"),
    );
    assert_caught(
        "memory_follows_measurements",
        &m,
        "Deployment store-redis/sa-server: memory limit 16 MiB is under its measured peak",
    );
}
