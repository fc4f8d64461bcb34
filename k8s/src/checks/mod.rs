//! One function per invariant of the rendered manifests. Each returns the problems it finds,
//! as sentences naming the object; an empty list means the invariant holds.
pub mod hosts;
pub mod memory;
pub mod pods;
pub mod routing;
pub mod security;
pub mod tables;

use crate::Manifests;

pub type Check = fn(&Manifests) -> Vec<String>;

/// Every check, by name; each overlay must pass all of them.
pub const ALL: &[(&str, Check)] = &[
    ("one_gateway_per_host", hosts::one_gateway_per_host),
    ("gateway_refs_resolve", hosts::gateway_refs_resolve),
    (
        "hosts_have_no_port_or_wildcard",
        hosts::hosts_have_no_port_or_wildcard,
    ),
    ("gateway_ports_fit_scheme", hosts::gateway_ports_fit_scheme),
    ("destinations_resolve", routing::destinations_resolve),
    (
        "subsets_exist_and_match_pods",
        routing::subsets_exist_and_match_pods,
    ),
    ("weights_sum_to_100", routing::weights_sum_to_100),
    (
        "faults_only_for_tagged_requests",
        routing::faults_only_for_tagged_requests,
    ),
    ("store_feature_routes", routing::store_feature_routes),
    (
        "store_routes_allow_streams",
        routing::store_routes_allow_streams,
    ),
    (
        "mobile_subset_is_compact",
        routing::mobile_subset_is_compact,
    ),
    ("regexes_are_re2", routing::regexes_are_re2),
    (
        "auth_policies_select_store_pods",
        security::auth_policies_select_store_pods,
    ),
    (
        "jwks_uri_is_auth_service",
        security::jwks_uri_is_auth_service,
    ),
    (
        "request_authentication_rules",
        security::request_authentication_rules,
    ),
    ("authorization_rules", security::authorization_rules),
    ("no_source_ip_rules", security::no_source_ip_rules),
    (
        "peer_authentication_strict",
        security::peer_authentication_strict,
    ),
    (
        "probes_use_health_endpoints",
        pods::probes_use_health_endpoints,
    ),
    ("containers_hardened", pods::containers_hardened),
    ("no_pinned_sidecars", pods::no_pinned_sidecars),
    ("telemetry_and_scraping", pods::telemetry_and_scraping),
    ("file_store_single_writer", pods::file_store_single_writer),
    ("scaling_targets_resolve", pods::scaling_targets_resolve),
    ("config_refs_resolve", pods::config_refs_resolve),
    (
        "memory_follows_measurements",
        memory::memory_follows_measurements,
    ),
    ("file_store_memory_fits", memory::file_store_memory_fits),
    ("store_routes_match_table", tables::store_routes_match_table),
    ("hosts_match_table", tables::hosts_match_table),
    ("store_rules_match_table", tables::store_rules_match_table),
    ("client_rules_match_table", tables::client_rules_match_table),
    (
        "destinations_say_their_upstream",
        routing::destinations_say_their_upstream,
    ),
    (
        "store_subset_is_version_label",
        routing::store_subset_is_version_label,
    ),
];

/// Runs one check by name (for tests and messages).
pub fn run(name: &str, m: &Manifests) -> Vec<String> {
    let (_, check) = ALL
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no check named {name}"));
    check(m)
}
