//! Each invariant of the rendered manifests, on every overlay. The checks live in
//! `sa_k8s::checks`; `mutations.rs` shows that each one catches a broken copy.
mod common;

macro_rules! invariants {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::assert_holds(stringify!($name));
            }
        )*

        #[test]
        fn every_check_has_its_own_test() {
            let tested = [$(stringify!($name)),*];
            let all: Vec<&str> = sa_k8s::checks::ALL.iter().map(|(n, _)| *n).collect();
            assert_eq!(all, tested, "add a test line here for each check in checks::ALL");
        }
    };
}

invariants!(
    one_gateway_per_host,
    gateway_refs_resolve,
    hosts_have_no_port_or_wildcard,
    gateway_ports_fit_scheme,
    destinations_resolve,
    subsets_exist_and_match_pods,
    weights_sum_to_100,
    faults_only_for_tagged_requests,
    store_feature_routes,
    store_routes_allow_streams,
    mobile_subset_is_compact,
    regexes_are_re2,
    auth_policies_select_store_pods,
    jwks_uri_is_auth_service,
    request_authentication_rules,
    authorization_rules,
    no_source_ip_rules,
    peer_authentication_strict,
    probes_use_health_endpoints,
    containers_hardened,
    no_pinned_sidecars,
    telemetry_and_scraping,
    file_store_single_writer,
    scaling_targets_resolve,
    config_refs_resolve,
    memory_follows_measurements,
    file_store_memory_fits,
    store_routes_match_table,
    hosts_match_table,
    store_rules_match_table,
    client_rules_match_table,
    destinations_say_their_upstream,
    store_subset_is_version_label,
);

/// The one comparison that keeps local (`sa-server dev`) and cluster routing together, spelled
/// out: the rendered store table is `STORE_ROUTES`, row by row.
#[test]
fn store_route_table_is_sa_shared_store_routes() {
    for m in common::rendered() {
        let (rows, problems) = sa_k8s::checks::tables::rendered_store_routes(m);
        assert!(problems.is_empty(), "{problems:#?}");
        let table: Vec<(&str, bool, &str)> = sa_shared::routes::STORE_ROUTES
            .iter()
            .map(|r| (r.prefix, r.strip_prefix, r.k8s_service))
            .collect();
        let rendered: Vec<(&str, bool, &str)> = rows
            .iter()
            .map(|r| (r.prefix.as_str(), r.strip_prefix, r.k8s_service.as_str()))
            .collect();
        assert_eq!(rendered, table, "overlay {}", m.overlay);
    }
}
