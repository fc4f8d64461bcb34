//! Users and refresh families in PostgreSQL (`--database-url`), for several auth replicas.
use std::time::Duration;

use anyhow::Context;
use sa_shared::auth::Role;
use sqlx::{postgres::PgPoolOptions, PgPool, Row};
use uuid::Uuid;

use super::{Family, StorageError, StorageResult, User};

pub struct PgStore {
    pool: PgPool,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS sa_auth_users (
        id uuid PRIMARY KEY,
        username text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        roles text[] NOT NULL,
        created bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sa_auth_families (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES sa_auth_users(id) ON DELETE CASCADE,
        generation bigint NOT NULL,
        secret_hash text NOT NULL,
        previous_hash text,
        rotated_at bigint NOT NULL,
        expires bigint NOT NULL,
        revoked boolean NOT NULL DEFAULT false)",
    "CREATE INDEX IF NOT EXISTS sa_auth_families_user ON sa_auth_families (user_id)",
];

fn unavailable(e: sqlx::Error) -> StorageError {
    StorageError::Unavailable(format!("PostgreSQL: {e}"))
}

fn user_from(row: &sqlx::postgres::PgRow) -> Result<User, sqlx::Error> {
    let roles: Vec<String> = row.try_get("roles")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
        created: row.try_get("created")?,
    })
}

fn family_from(row: &sqlx::postgres::PgRow) -> Result<Family, sqlx::Error> {
    let generation: i64 = row.try_get("generation")?;
    Ok(Family {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        generation: generation as u64,
        secret_hash: row.try_get("secret_hash")?,
        previous_hash: row.try_get("previous_hash")?,
        rotated_at: row.try_get("rotated_at")?,
        expires: row.try_get("expires")?,
        revoked: row.try_get("revoked")?,
    })
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_string()).collect()
}

const USER_COLUMNS: &str = "id, username, password_hash, roles, created";

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            // While PostgreSQL is down a request should get its 503 soon, not hang.
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await
            .context("cannot connect to PostgreSQL (check --database-url)")?;
        let mut tx = pool.begin().await?;
        // Several replicas may start at once; one creates the tables, the others wait.
        sqlx::query("SELECT pg_advisory_xact_lock(72116101)")
            .execute(&mut *tx)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(*stmt)
                .execute(&mut *tx)
                .await
                .context("cannot create the auth tables")?;
        }
        tx.commit().await?;
        Ok(PgStore { pool })
    }

    pub async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    pub async fn count_users(&self) -> StorageResult<usize> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sa_auth_users")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(n as usize)
    }

    pub async fn create_user(&self, user: User) -> StorageResult<()> {
        let r = sqlx::query("INSERT INTO sa_auth_users (id, username, password_hash, roles, created) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.id)
            .bind(&user.username)
            .bind(&user.password_hash)
            .bind(role_names(&user.roles))
            .bind(user.created)
            .execute(&self.pool)
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Err(StorageError::UsernameTaken)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    pub async fn user_by_name(&self, username: &str) -> StorageResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM sa_auth_users WHERE username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from).transpose().map_err(unavailable)
    }

    pub async fn user(&self, id: Uuid) -> StorageResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM sa_auth_users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from).transpose().map_err(unavailable)
    }

    pub async fn list_users(&self) -> StorageResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM sa_auth_users ORDER BY username");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(user_from)
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    pub async fn set_roles(&self, id: Uuid, roles: Vec<Role>) -> StorageResult<Option<User>> {
        let sql =
            format!("UPDATE sa_auth_users SET roles = $2 WHERE id = $1 RETURNING {USER_COLUMNS}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(role_names(&roles))
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(user_from).transpose().map_err(unavailable)
    }

    pub async fn delete_user(&self, id: Uuid) -> StorageResult<bool> {
        let r = sqlx::query("DELETE FROM sa_auth_users WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn insert_family(&self, f: Family) -> StorageResult<()> {
        // Expired families are dead weight; each login sweeps a few.
        sqlx::query("DELETE FROM sa_auth_families WHERE id IN (SELECT id FROM sa_auth_families WHERE expires < $1 LIMIT 100)")
            .bind(f.rotated_at)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        sqlx::query("INSERT INTO sa_auth_families (id, user_id, generation, secret_hash, previous_hash, rotated_at, expires, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(f.id)
            .bind(f.user_id)
            .bind(f.generation as i64)
            .bind(&f.secret_hash)
            .bind(&f.previous_hash)
            .bind(f.rotated_at)
            .bind(f.expires)
            .bind(f.revoked)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    pub async fn family(&self, id: Uuid) -> StorageResult<Option<Family>> {
        let row = sqlx::query("SELECT id, user_id, generation, secret_hash, previous_hash, rotated_at, expires, revoked FROM sa_auth_families WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref()
            .map(family_from)
            .transpose()
            .map_err(unavailable)
    }

    pub async fn rotate_family(
        &self,
        id: Uuid,
        from_generation: u64,
        new_hash: String,
        now: i64,
    ) -> StorageResult<bool> {
        let r = sqlx::query(
            "UPDATE sa_auth_families SET previous_hash = secret_hash, secret_hash = $3, generation = generation + 1, rotated_at = $4
             WHERE id = $1 AND generation = $2 AND NOT revoked",
        )
        .bind(id)
        .bind(from_generation as i64)
        .bind(new_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn revoke_family(&self, id: Uuid) -> StorageResult<()> {
        sqlx::query("UPDATE sa_auth_families SET revoked = true WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}
