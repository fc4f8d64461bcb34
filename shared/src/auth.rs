//! Auth messages and token claims.
use serde::{Deserialize, Serialize};

/// A role in the `roles` claim. Each role includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May GET.
    Reader,
    /// May also POST, PUT and DELETE.
    Writer,
    /// May also manage users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Reader, Role::Writer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The strongest of a set of role names (unknown names are ignored), the role a user is
    /// shown with.
    pub fn strongest(roles: &[String]) -> Option<Role> {
        roles.iter().filter_map(|r| Role::parse(r)).max()
    }
}

/// Whether a set of role names allows reading (`reader`, `writer` or `admin`).
pub fn can_read(roles: &[String]) -> bool {
    roles.iter().any(|r| Role::parse(r).is_some())
}

/// Whether a set of role names allows writing (`writer` or `admin`).
pub fn can_write(roles: &[String]) -> bool {
    roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .any(|r| r >= Role::Writer)
}

/// The claims of an access token issued by sa's auth service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub name: String,
    pub roles: Vec<String>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// Only on share tokens: the one model id this read-only token may GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Answer to `POST /api/login` and `POST /api/token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A user as `GET /api/me` and `GET /api/users` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub roles: Vec<String>,
    /// RFC 3339 UTC.
    pub created: String,
}

/// Body of `PUT /api/users/{id}/roles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesUpdate {
    pub roles: Vec<String>,
}

/// Body of `POST /api/share`: the absolute URL of one model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequest {
    pub url: String,
}

/// Answer to `POST /api/share`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareResponse {
    /// The model URL with `?access_token=…`, ready to open in any browser tab.
    pub url: String,
    pub access_token: String,
    pub expires_in: u64,
}

/// Name of the refresh cookie on the auth host.
pub const REFRESH_COOKIE: &str = "__Host-sa_refresh";
/// The `aud` of sa's own tokens.
pub const AUDIENCE: &str = "sa";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(can_read(&r(&["reader"])));
        assert!(!can_write(&r(&["reader"])));
        assert!(can_write(&r(&["writer"])));
        assert!(can_write(&r(&["admin"])));
        assert!(!can_read(&r(&["guest"])));
        assert_eq!(serde_json::to_string(&Role::Writer).unwrap(), "\"writer\"");
    }

    #[test]
    fn strongest_role_wins_and_unknown_names_are_ignored() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Role::strongest(&names(&["reader", "admin", "writer"])),
            Some(Role::Admin)
        );
        assert_eq!(
            Role::strongest(&names(&["owner", "reader"])),
            Some(Role::Reader)
        );
        assert_eq!(Role::strongest(&names(&["owner"])), None);
        assert_eq!(Role::strongest(&[]), None);
    }
}
