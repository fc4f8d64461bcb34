//! PostgreSQL: a sqlx pool, one row per model, the document as JSONB.
//!
//! The pool connects lazily and tests each connection before use, so the store starts while the
//! database is down and heals by itself after an outage. Migrations run before the first query
//! (and again until they succeed); their bookkeeping table is our own, `_sa_store_migrations`,
//! so the auth service's migrations in the same database never collide with ours.
use std::time::Duration;

use bytes::Bytes;
use sqlx::{
    migrate::{Migration, MigrationType, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool, Row, SqlSafeStr,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    search_key, BackendError, Deleted, Expect, ListQuery, Meta, NewDoc, Page, Result, Stored,
    Written,
};

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "models", include_str!("migrations/0001_models.sql"))];

pub struct PostgresBackend {
    pool: PgPool,
    timeout: Duration,
    migrated: tokio::sync::OnceCell<()>,
}

fn db_error(e: impl std::fmt::Display) -> BackendError {
    BackendError(format!("postgres: {e}"))
}

impl PostgresBackend {
    pub fn connect_lazy(url: &str, timeout: Duration) -> anyhow::Result<PostgresBackend> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| anyhow::anyhow!("bad --database-url: {e}"))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(0)
            .acquire_timeout(timeout)
            .test_before_acquire(true)
            .connect_lazy_with(options);
        Ok(PostgresBackend {
            pool,
            timeout,
            migrated: tokio::sync::OnceCell::new(),
        })
    }

    async fn bounded<T>(
        &self,
        f: impl std::future::Future<Output = std::result::Result<T, sqlx::Error>>,
    ) -> Result<T> {
        self.migrate().await?;
        self.bounded_raw(f).await
    }

    async fn bounded_raw<T, E: std::fmt::Display>(
        &self,
        f: impl std::future::Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r.map_err(db_error),
            Err(_) => Err(BackendError(format!(
                "postgres did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    /// Runs the migrations once per process (retried on the next request if the database was down).
    pub async fn migrate(&self) -> Result<()> {
        self.migrated
            .get_or_try_init(|| async {
                let migrations = MIGRATIONS
                    .iter()
                    .map(|(v, d, sql)| {
                        Migration::new(
                            *v,
                            (*d).into(),
                            MigrationType::Simple,
                            sql.into_sql_str(),
                            false,
                        )
                    })
                    .collect();
                let mut migrator = Migrator::with_migrations(migrations);
                migrator.dangerous_set_table_name("_sa_store_migrations");
                self.bounded_raw(migrator.run(&self.pool)).await?;
                tracing::info!("postgres store schema is up to date");
                Ok::<(), BackendError>(())
            })
            .await
            .map(|_| ())
    }
}

fn meta_from_row(row: &sqlx::postgres::PgRow) -> std::result::Result<Meta, sqlx::Error> {
    Ok(Meta {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        updated: row.try_get::<OffsetDateTime, _>("updated")?,
        size: row.try_get::<i64, _>("size")? as u64,
        etag: row.try_get("etag")?,
    })
}

impl super::Backend for PostgresBackend {
    fn kind(&self) -> sa_shared::routes::Backend {
        sa_shared::routes::Backend::Postgres
    }

    async fn get(&self, id: Uuid) -> Result<Option<Stored>> {
        let row = self
            .bounded(
                sqlx::query("SELECT doc::text AS body, etag FROM sa_models WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool),
            )
            .await?;
        row.map(|r| {
            Ok(Stored {
                body: Bytes::from(r.try_get::<String, _>("body").map_err(db_error)?),
                etag: r.try_get("etag").map_err(db_error)?,
            })
        })
        .transpose()
    }

    async fn put(&self, id: Uuid, doc: NewDoc, expect: Expect) -> Result<Written> {
        let text = std::str::from_utf8(&doc.body)
            .map_err(|_| BackendError("document is not UTF-8".into()))?
            .to_string();
        let name_lower = search_key(&doc.name);
        let size = doc.body.len() as i64;
        let (sql, tags): (&'static str, Vec<String>) = match expect {
            Expect::Anything => (
                "INSERT INTO sa_models (id, doc, name, name_lower, etag, size, updated) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, name = EXCLUDED.name, name_lower = EXCLUDED.name_lower, \
                 etag = EXCLUDED.etag, size = EXCLUDED.size, updated = EXCLUDED.updated RETURNING (xmax = 0) AS created",
                vec![],
            ),
            Expect::Absent => (
                "INSERT INTO sa_models (id, doc, name, name_lower, etag, size, updated) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO NOTHING RETURNING true AS created",
                vec![],
            ),
            Expect::Exists => (
                "UPDATE sa_models SET doc = $2::jsonb, name = $3, name_lower = $4, etag = $5, size = $6, updated = $7 WHERE id = $1 RETURNING false AS created",
                vec![],
            ),
            Expect::Etag(tags) => (
                "UPDATE sa_models SET doc = $2::jsonb, name = $3, name_lower = $4, etag = $5, size = $6, updated = $7 \
                 WHERE id = $1 AND etag = ANY($8) RETURNING false AS created",
                tags,
            ),
        };
        let mut q = sqlx::query(sql)
            .bind(id)
            .bind(text)
            .bind(&doc.name)
            .bind(name_lower)
            .bind(&doc.etag)
            .bind(size)
            .bind(doc.updated);
        if sql.contains("$8") {
            q = q.bind(tags);
        }
        let row = self.bounded(q.fetch_optional(&self.pool)).await?;
        Ok(match row {
            None => Written::PreconditionFailed,
            Some(r) if r.try_get::<bool, _>("created").map_err(db_error)? => Written::Created,
            Some(_) => Written::Updated,
        })
    }

    async fn delete(&self, id: Uuid, expect: Expect) -> Result<Deleted> {
        let row = match &expect {
            Expect::Etag(tags) => {
                self.bounded(
                    sqlx::query(
                        "DELETE FROM sa_models WHERE id = $1 AND etag = ANY($2) RETURNING id",
                    )
                    .bind(id)
                    .bind(tags.clone())
                    .fetch_optional(&self.pool),
                )
                .await?
            }
            _ => {
                self.bounded(
                    sqlx::query("DELETE FROM sa_models WHERE id = $1 RETURNING id")
                        .bind(id)
                        .fetch_optional(&self.pool),
                )
                .await?
            }
        };
        if row.is_some() {
            return Ok(Deleted::Deleted);
        }
        let exists = self
            .bounded(
                sqlx::query("SELECT 1 FROM sa_models WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool),
            )
            .await?
            .is_some();
        Ok(if exists {
            Deleted::PreconditionFailed
        } else {
            Deleted::NotFound
        })
    }

    async fn list(&self, query: ListQuery) -> Result<Page> {
        // One statement per shape, so each keeps a plan that walks the primary key index
        // (a generic `$1 IS NULL OR id < $1` plan would scan and sort the whole table).
        let sql = match (query.after.is_some(), query.q.is_some()) {
            (false, false) => "SELECT id, name, updated, size, etag FROM sa_models ORDER BY id DESC LIMIT $1",
            (true, false) => "SELECT id, name, updated, size, etag FROM sa_models WHERE id < $2 ORDER BY id DESC LIMIT $1",
            (false, true) => "SELECT id, name, updated, size, etag FROM sa_models WHERE strpos(name_lower, $2) > 0 ORDER BY id DESC LIMIT $1",
            (true, true) => "SELECT id, name, updated, size, etag FROM sa_models WHERE id < $2 AND strpos(name_lower, $3) > 0 ORDER BY id DESC LIMIT $1",
        };
        let mut q = sqlx::query(sql).bind(query.limit as i64 + 1);
        if let Some(after) = query.after {
            q = q.bind(after);
        }
        if let Some(text) = &query.q {
            q = q.bind(text.clone());
        }
        let rows = self.bounded(q.fetch_all(&self.pool)).await?;
        let total: i64 = match &query.q {
            None => {
                self.bounded(
                    sqlx::query_scalar("SELECT count(*) FROM sa_models").fetch_one(&self.pool),
                )
                .await?
            }
            Some(text) => {
                self.bounded(
                    sqlx::query_scalar(
                        "SELECT count(*) FROM sa_models WHERE strpos(name_lower, $1) > 0",
                    )
                    .bind(text.clone())
                    .fetch_one(&self.pool),
                )
                .await?
            }
        };
        let items = rows
            .iter()
            .map(meta_from_row)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(Page::from_overfetch(items, query.limit, total as u64))
    }

    async fn ids(&self) -> Result<Vec<Uuid>> {
        self.bounded(
            sqlx::query_scalar("SELECT id FROM sa_models ORDER BY id DESC").fetch_all(&self.pool),
        )
        .await
    }

    async fn ids_page(&self, after: Option<Uuid>, limit: usize) -> Result<Vec<Uuid>> {
        // Two statements, so each keeps a plan that walks the primary key index backwards.
        let q = match after {
            None => sqlx::query_scalar("SELECT id FROM sa_models ORDER BY id DESC LIMIT $1")
                .bind(limit as i64),
            Some(after) => sqlx::query_scalar(
                "SELECT id FROM sa_models WHERE id < $2 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit as i64)
            .bind(after),
        };
        self.bounded(q.fetch_all(&self.pool)).await
    }

    async fn ready(&self) -> Result<()> {
        self.bounded(sqlx::query("SELECT 1").execute(&self.pool))
            .await
            .map(|_| ())
    }
}
