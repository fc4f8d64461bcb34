//! Where users and refresh-token families live: a file in the data dir by default, PostgreSQL
//! with `--database-url`. Both offer the same operations through [`Storage`].
use sa_shared::auth::{Role, UserView};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod file;
pub mod postgres;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    /// Lower case; unique.
    pub username: String,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub roles: Vec<Role>,
    /// Unix seconds.
    pub created: i64,
}

impl User {
    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.as_str().to_string()).collect()
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    pub fn view(&self) -> UserView {
        let created = time::OffsetDateTime::from_unix_timestamp(self.created)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        UserView {
            id: self.id.to_string(),
            username: self.username.clone(),
            roles: self.role_names(),
            created,
        }
    }
}

/// One login's chain of refresh tokens. Only the hash of the current secret is kept, plus the
/// previous one for a short grace period (two tabs refreshing with the same cookie at once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub id: Uuid,
    pub user_id: Uuid,
    pub generation: u64,
    pub secret_hash: String,
    pub previous_hash: Option<String>,
    /// Unix seconds of the last rotation (or of the login).
    pub rotated_at: i64,
    pub expires: i64,
    pub revoked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("username taken")]
    UsernameTaken,
    #[error("{0}")]
    Unavailable(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// The storage backend in use.
pub enum Storage {
    File(file::FileStore),
    Postgres(postgres::PgStore),
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Storage::File($s) => $e,
            Storage::Postgres($s) => $e,
        }
    };
}

impl Storage {
    pub async fn open(
        data_dir: &std::path::Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<Storage> {
        Ok(match database_url {
            Some(url) => Storage::Postgres(postgres::PgStore::connect(url).await?),
            None => Storage::File(file::FileStore::open(data_dir).await?),
        })
    }

    pub async fn ping(&self) -> StorageResult<()> {
        dispatch!(self, s => s.ping().await)
    }
    pub async fn count_users(&self) -> StorageResult<usize> {
        dispatch!(self, s => s.count_users().await)
    }
    pub async fn create_user(&self, user: User) -> StorageResult<()> {
        dispatch!(self, s => s.create_user(user).await)
    }
    pub async fn user_by_name(&self, username: &str) -> StorageResult<Option<User>> {
        dispatch!(self, s => s.user_by_name(username).await)
    }
    pub async fn user(&self, id: Uuid) -> StorageResult<Option<User>> {
        dispatch!(self, s => s.user(id).await)
    }
    pub async fn list_users(&self) -> StorageResult<Vec<User>> {
        dispatch!(self, s => s.list_users().await)
    }
    pub async fn set_roles(&self, id: Uuid, roles: Vec<Role>) -> StorageResult<Option<User>> {
        dispatch!(self, s => s.set_roles(id, roles).await)
    }
    /// Deletes the user and every refresh family of theirs.
    pub async fn delete_user(&self, id: Uuid) -> StorageResult<bool> {
        dispatch!(self, s => s.delete_user(id).await)
    }
    pub async fn insert_family(&self, family: Family) -> StorageResult<()> {
        dispatch!(self, s => s.insert_family(family).await)
    }
    pub async fn family(&self, id: Uuid) -> StorageResult<Option<Family>> {
        dispatch!(self, s => s.family(id).await)
    }
    /// Replaces the family's secret if it is still at `from_generation` (compare and swap, so two
    /// concurrent refreshes can't both rotate). Returns whether it did.
    pub async fn rotate_family(
        &self,
        id: Uuid,
        from_generation: u64,
        new_hash: String,
        now: i64,
    ) -> StorageResult<bool> {
        dispatch!(self, s => s.rotate_family(id, from_generation, new_hash, now).await)
    }
    pub async fn revoke_family(&self, id: Uuid) -> StorageResult<()> {
        dispatch!(self, s => s.revoke_family(id).await)
    }
}
