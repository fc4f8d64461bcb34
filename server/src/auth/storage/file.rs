//! Users and refresh families in two JSON files in the data dir.
//!
//! Every change rewrites the file through temp + fsync + rename, so a crash leaves the old or the
//! new version, never a torn one. The whole state is in memory; the files are the durable copy.
//! That fits the number of accounts one sa deployment has; many thousands would want PostgreSQL.
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use sa_shared::auth::Role;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{Family, StorageError, StorageResult, User};
use crate::auth::fsutil::{create_private_dir, write_private_atomic};

#[derive(Default, Serialize, Deserialize)]
struct UsersFile {
    users: Vec<User>,
}

#[derive(Default, Serialize, Deserialize)]
struct FamiliesFile {
    families: Vec<Family>,
}

struct State {
    users: HashMap<Uuid, User>,
    families: HashMap<Uuid, Family>,
    /// The users file version in memory; another process (`sa-server users add`) may replace it.
    users_stamp: Option<(std::time::SystemTime, u64)>,
}

pub struct FileStore {
    users_path: PathBuf,
    families_path: PathBuf,
    state: Mutex<State>,
}

fn read_json<T: Default + for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON of the expected shape", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Modification time and inode: every atomic replace changes the inode, even within one mtime tick.
fn stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let ino = meta.len();
    Some((meta.modified().ok()?, ino))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl FileStore {
    pub async fn open(data_dir: &Path) -> anyhow::Result<FileStore> {
        create_private_dir(data_dir)
            .with_context(|| format!("cannot create the auth data dir {}", data_dir.display()))?;
        let users_path = data_dir.join("users.json");
        let families_path = data_dir.join("sessions.json");
        let users: UsersFile = read_json(&users_path)?;
        let families: FamiliesFile = read_json(&families_path)?;
        let state = State {
            users: users.users.into_iter().map(|u| (u.id, u)).collect(),
            families: families.families.into_iter().map(|f| (f.id, f)).collect(),
            users_stamp: stamp(&users_path),
        };
        Ok(FileStore {
            users_path,
            families_path,
            state: Mutex::new(state),
        })
    }

    /// The state, with the users re-read first if another process replaced the users file.
    async fn lock(&self) -> tokio::sync::MutexGuard<'_, State> {
        let mut s = self.state.lock().await;
        let now_stamp = stamp(&self.users_path);
        if now_stamp != s.users_stamp {
            match read_json::<UsersFile>(&self.users_path) {
                Ok(file) => {
                    s.users = file.users.into_iter().map(|u| (u.id, u)).collect();
                    s.users_stamp = now_stamp;
                    tracing::info!("users file changed on disk; reloaded it");
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "users file changed but cannot be read; keeping the users in memory")
                }
            }
        }
        s
    }

    async fn save_users(&self, state: &mut State) -> StorageResult<()> {
        let mut users: Vec<User> = state.users.values().cloned().collect();
        users.sort_by_key(|u| (u.created, u.id));
        write(
            self.users_path.clone(),
            serde_json::to_vec_pretty(&UsersFile { users }),
        )
        .await?;
        state.users_stamp = stamp(&self.users_path);
        Ok(())
    }

    async fn save_families(&self, state: &mut State) -> StorageResult<()> {
        // Dead families carry no information once expired; dropping them keeps the file small.
        let t = now();
        state.families.retain(|_, f| f.expires > t);
        let families: Vec<Family> = state.families.values().cloned().collect();
        write(
            self.families_path.clone(),
            serde_json::to_vec(&FamiliesFile { families }),
        )
        .await
    }

    pub async fn ping(&self) -> StorageResult<()> {
        let dir = self
            .users_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        tokio::fs::metadata(&dir)
            .await
            .map(|_| ())
            .map_err(|e| StorageError::Unavailable(format!("{}: {e}", dir.display())))
    }

    pub async fn count_users(&self) -> StorageResult<usize> {
        Ok(self.lock().await.users.len())
    }

    pub async fn create_user(&self, user: User) -> StorageResult<()> {
        let mut s = self.lock().await;
        if s.users.values().any(|u| u.username == user.username) {
            return Err(StorageError::UsernameTaken);
        }
        s.users.insert(user.id, user.clone());
        if let Err(e) = self.save_users(&mut s).await {
            s.users.remove(&user.id);
            return Err(e);
        }
        Ok(())
    }

    pub async fn user_by_name(&self, username: &str) -> StorageResult<Option<User>> {
        Ok(self
            .lock()
            .await
            .users
            .values()
            .find(|u| u.username == username)
            .cloned())
    }

    pub async fn user(&self, id: Uuid) -> StorageResult<Option<User>> {
        Ok(self.lock().await.users.get(&id).cloned())
    }

    pub async fn list_users(&self) -> StorageResult<Vec<User>> {
        let mut users: Vec<User> = self.lock().await.users.values().cloned().collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    pub async fn set_roles(&self, id: Uuid, roles: Vec<Role>) -> StorageResult<Option<User>> {
        let mut s = self.lock().await;
        let Some(user) = s.users.get_mut(&id) else {
            return Ok(None);
        };
        let old = std::mem::replace(&mut user.roles, roles);
        let updated = user.clone();
        if let Err(e) = self.save_users(&mut s).await {
            if let Some(u) = s.users.get_mut(&id) {
                u.roles = old;
            }
            return Err(e);
        }
        Ok(Some(updated))
    }

    pub async fn delete_user(&self, id: Uuid) -> StorageResult<bool> {
        let mut s = self.lock().await;
        let Some(user) = s.users.remove(&id) else {
            return Ok(false);
        };
        if let Err(e) = self.save_users(&mut s).await {
            s.users.insert(id, user);
            return Err(e);
        }
        s.families.retain(|_, f| f.user_id != id);
        self.save_families(&mut s).await?;
        Ok(true)
    }

    pub async fn insert_family(&self, family: Family) -> StorageResult<()> {
        let mut s = self.lock().await;
        s.families.insert(family.id, family);
        self.save_families(&mut s).await
    }

    pub async fn family(&self, id: Uuid) -> StorageResult<Option<Family>> {
        Ok(self.lock().await.families.get(&id).cloned())
    }

    pub async fn rotate_family(
        &self,
        id: Uuid,
        from_generation: u64,
        new_hash: String,
        now: i64,
    ) -> StorageResult<bool> {
        let mut s = self.lock().await;
        let Some(f) = s.families.get_mut(&id) else {
            return Ok(false);
        };
        if f.revoked || f.generation != from_generation {
            return Ok(false);
        }
        let before = f.clone();
        f.previous_hash = Some(std::mem::replace(&mut f.secret_hash, new_hash));
        f.generation += 1;
        f.rotated_at = now;
        if let Err(e) = self.save_families(&mut s).await {
            s.families.insert(id, before);
            return Err(e);
        }
        Ok(true)
    }

    pub async fn revoke_family(&self, id: Uuid) -> StorageResult<()> {
        let mut s = self.lock().await;
        if let Some(f) = s.families.get_mut(&id) {
            f.revoked = true;
            self.save_families(&mut s).await?;
        }
        Ok(())
    }
}

async fn write(path: PathBuf, bytes: serde_json::Result<Vec<u8>>) -> StorageResult<()> {
    let bytes = bytes.map_err(|e| StorageError::Unavailable(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        write_private_atomic(&path, &bytes)
            .map_err(|e| StorageError::Unavailable(format!("cannot write {}: {e}", path.display())))
    })
    .await
    .map_err(|e| StorageError::Unavailable(e.to_string()))?
}
