//! PostgreSQL: a sqlx pool, one row per model, the document as JSONB.
//!
//! The pool connects lazily and tests each connection before use, so the store starts while the
//! database is down and heals by itself after an outage. Migrations run before the first query
//! (and again until they succeed); their bookkeeping table is our own, `_sa_store_migrations`,
//! so the auth service's migrations in the same database never collide with ours.
use std::time::Duration;

use bytes::Bytes;
use sa_shared::history::{Author, Op};
use sqlx::{
    migrate::{Migration, MigrationType, Migrator},
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
    PgConnection, PgPool, Row, SqlSafeStr,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    history::op_of, now_millis, search_key, BackendError, ChangeEvent, ChangeRead, Cursor, Deleted,
    Expect, ListQuery, Meta, NewDoc, Page, Result, Retention, Stored, VersionMeta, Written,
};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "models", include_str!("migrations/0001_models.sql")),
    (2, "history", include_str!("migrations/0002_history.sql")),
];

/// The advisory lock that hands out change cursors one writer at a time (any constant that
/// nothing else in the database uses).
const FEED_LOCK: i64 = 0x5341_4645_4544;
const CHANNEL: &str = "sa_changes";
/// How long the feed reader waits for a notification before it reads the table anyway.
const BLOCK: Duration = Duration::from_secs(5);

pub struct PostgresBackend {
    pool: PgPool,
    timeout: Duration,
    retention: Retention,
    migrated: tokio::sync::OnceCell<()>,
    /// The feed reader's one `LISTEN` connection (opened on first use, again after a failure).
    listener: tokio::sync::Mutex<Option<PgListener>>,
}

/// What a write records besides the model.
struct Record<'a> {
    id: Uuid,
    op: Op,
    etag: &'a str,
    by: &'a Author,
    updated: OffsetDateTime,
    size: i64,
    doc: Option<&'a str>,
}

fn db_error(e: impl std::fmt::Display) -> BackendError {
    BackendError(format!("postgres: {e}"))
}

impl PostgresBackend {
    pub fn connect_lazy(
        url: &str,
        timeout: Duration,
        retention: Retention,
    ) -> anyhow::Result<PostgresBackend> {
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
            retention,
            migrated: tokio::sync::OnceCell::new(),
            listener: tokio::sync::Mutex::new(None),
        })
    }

    /// The version and the change event of a write, inside its transaction. The cursor is
    /// taken under an advisory lock held until commit, so cursors commit in their order and a
    /// reader that has seen cursor N has seen everything below it. Only the lock and one
    /// statement run while it is held: the version trim comes before it.
    async fn record(&self, tx: &mut PgConnection, r: Record<'_>) -> sqlx::Result<i64> {
        let keep = self.retention.versions as i64;
        if keep > 0 {
            // Room for the version about to be added.
            sqlx::query(
                "DELETE FROM sa_versions WHERE model = $1 AND cursor <= \
                 (SELECT cursor FROM sa_versions WHERE model = $1 ORDER BY cursor DESC OFFSET $2 LIMIT 1)",
            )
            .bind(r.id)
            .bind(keep - 1)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FEED_LOCK)
            .execute(&mut *tx)
            .await?;
        // One statement: the change row, the version, the feed's trim and the notification.
        sqlx::query_scalar(
            "WITH c AS (INSERT INTO sa_changes (cursor, model, etag, op, by_sub, by_name, updated) \
               VALUES (nextval('sa_change_cursor'), $1, $2, $3, $4, $5, $6) RETURNING cursor), \
             v AS (INSERT INTO sa_versions (model, cursor, etag, op, by_sub, by_name, size, updated, doc) \
               SELECT $1, cursor, $2, $3, $4, $5, $7, $6, $8::jsonb FROM c WHERE $9), \
             gone AS (DELETE FROM sa_changes WHERE cursor <= (SELECT cursor FROM c) - $10 RETURNING cursor), \
             f AS (UPDATE sa_changes_floor SET floor = greatest(floor, (SELECT max(cursor) FROM gone)) \
               WHERE EXISTS (SELECT 1 FROM gone)), \
             n AS (SELECT pg_notify($11, cursor::text) FROM c) \
             SELECT c.cursor FROM c, n",
        )
        .bind(r.id)
        .bind(r.etag)
        .bind(r.op.as_str())
        .bind(&r.by.sub)
        .bind(&r.by.name)
        .bind(r.updated)
        .bind(r.size)
        .bind(r.doc)
        .bind(keep > 0)
        .bind(self.retention.changes.max(1) as i64)
        .bind(CHANNEL)
        .fetch_one(&mut *tx)
        .await
    }

    fn cutoff(&self) -> OffsetDateTime {
        self.retention.deleted_cutoff(now_millis())
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
        self.migrate().await?;
        let body = std::str::from_utf8(&doc.body).unwrap_or_default();
        let write = async {
            let mut tx = self.pool.begin().await?;
            let Some(row) = q.fetch_optional(&mut *tx).await? else {
                return Ok(Written::PreconditionFailed);
            };
            let created: bool = row.try_get("created")?;
            sqlx::query("DELETE FROM sa_deleted WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            self.record(
                &mut tx,
                Record {
                    id,
                    op: op_of(doc.restored, !created),
                    etag: &doc.etag,
                    by: &doc.by,
                    updated: doc.updated,
                    size,
                    doc: Some(body),
                },
            )
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(if created {
                Written::Created
            } else {
                Written::Updated
            })
        };
        self.bounded_raw(write).await
    }

    async fn delete(&self, id: Uuid, expect: Expect, by: Author) -> Result<Deleted> {
        self.migrate().await?;
        let write = async {
            let mut tx = self.pool.begin().await?;
            let removed = match &expect {
                Expect::Etag(tags) => {
                    sqlx::query(
                        "DELETE FROM sa_models WHERE id = $1 AND etag = ANY($2) RETURNING name, name_lower, etag, size",
                    )
                    .bind(id)
                    .bind(tags.clone())
                    .fetch_optional(&mut *tx)
                    .await?
                }
                _ => {
                    sqlx::query(
                        "DELETE FROM sa_models WHERE id = $1 RETURNING name, name_lower, etag, size",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                }
            };
            let Some(row) = removed else {
                let exists = sqlx::query("SELECT 1 FROM sa_models WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                return Ok(if exists {
                    Deleted::PreconditionFailed
                } else {
                    Deleted::NotFound
                });
            };
            let (etag, size): (String, i64) = (row.try_get("etag")?, row.try_get("size")?);
            let now = now_millis();
            sqlx::query(
                "INSERT INTO sa_deleted (id, name, name_lower, etag, size, deleted) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, name_lower = EXCLUDED.name_lower, \
                 etag = EXCLUDED.etag, size = EXCLUDED.size, deleted = EXCLUDED.deleted",
            )
            .bind(id)
            .bind(row.try_get::<String, _>("name")?)
            .bind(row.try_get::<String, _>("name_lower")?)
            .bind(&etag)
            .bind(size)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // Models deleted longer ago than --keep-deleted go for good, with their history.
            sqlx::query(
                "WITH gone AS (DELETE FROM sa_deleted WHERE deleted < $1 RETURNING id) \
                 DELETE FROM sa_versions WHERE model IN (SELECT id FROM gone)",
            )
            .bind(self.cutoff())
            .execute(&mut *tx)
            .await?;
            self.record(
                &mut tx,
                Record {
                    id,
                    op: Op::Deleted,
                    etag: &etag,
                    by: &by,
                    updated: now,
                    size,
                    doc: None,
                },
            )
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Deleted::Deleted)
        };
        self.bounded_raw(write).await
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

    async fn versions(&self, id: Uuid) -> Result<Vec<VersionMeta>> {
        let rows = self
            .bounded(
                sqlx::query(
                    "SELECT cursor, etag, op, by_sub, by_name, size, updated FROM sa_versions WHERE model = $1 \
                     AND NOT EXISTS (SELECT 1 FROM sa_deleted WHERE id = $1 AND deleted < $2) ORDER BY cursor DESC",
                )
                .bind(id)
                .bind(self.cutoff())
                .fetch_all(&self.pool),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(VersionMeta {
                    cursor: Cursor::int(r.try_get::<i64, _>("cursor")? as u64),
                    etag: r.try_get("etag")?,
                    updated: r.try_get("updated")?,
                    by: Author {
                        sub: r.try_get("by_sub")?,
                        name: r.try_get("by_name")?,
                    },
                    size: r.try_get::<i64, _>("size")? as u64,
                    op: Op::parse(r.try_get("op")?).unwrap_or(Op::Updated),
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
            .map_err(db_error)
    }

    async fn version_body(&self, id: Uuid, etag: &str) -> Result<Option<Bytes>> {
        let body: Option<String> = self
            .bounded(
                sqlx::query_scalar(
                    "SELECT doc::text FROM sa_versions WHERE model = $1 AND etag = $2 AND doc IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM sa_deleted WHERE id = $1 AND deleted < $3) \
                     ORDER BY cursor DESC LIMIT 1",
                )
                .bind(id)
                .bind(etag)
                .bind(self.cutoff())
                .fetch_optional(&self.pool),
            )
            .await?;
        Ok(body.map(Bytes::from))
    }

    async fn deleted(&self, query: ListQuery) -> Result<Page> {
        // The deleted models of the last --keep-deleted are few; one generic plan is enough.
        let rows = self
            .bounded(
                sqlx::query(
                    "SELECT id, name, deleted AS updated, size, etag FROM sa_deleted WHERE deleted >= $1 \
                     AND ($2::uuid IS NULL OR id < $2) AND ($3::text IS NULL OR strpos(name_lower, $3) > 0) \
                     ORDER BY id DESC LIMIT $4",
                )
                .bind(self.cutoff())
                .bind(query.after)
                .bind(query.q.clone())
                .bind(query.limit as i64 + 1)
                .fetch_all(&self.pool),
            )
            .await?;
        let total: i64 = self
            .bounded(
                sqlx::query_scalar(
                    "SELECT count(*) FROM sa_deleted WHERE deleted >= $1 AND ($2::text IS NULL OR strpos(name_lower, $2) > 0)",
                )
                .bind(self.cutoff())
                .bind(query.q.clone())
                .fetch_one(&self.pool),
            )
            .await?;
        let items = rows
            .iter()
            .map(meta_from_row)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(Page::from_overfetch(items, query.limit, total as u64))
    }

    async fn changes(&self, after: Cursor, limit: usize) -> Result<ChangeRead> {
        let rows = self
            .bounded(
                sqlx::query(
                    "SELECT cursor, model, etag, op, by_sub, by_name, updated FROM sa_changes \
                     WHERE cursor > $1 ORDER BY cursor LIMIT $2",
                )
                .bind(after.hi as i64)
                .bind(limit as i64)
                .fetch_all(&self.pool),
            )
            .await?;
        // Read after the rows: a trim in between shows as a reset, never as a silent gap.
        let (floor, issued): (i64, i64) = self
            .bounded(
                sqlx::query_as(
                    "SELECT (SELECT floor FROM sa_changes_floor), \
                     (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sa_change_cursor)",
                )
                .fetch_one(&self.pool),
            )
            .await?;
        if (after.hi as i64) < floor || after.hi as i64 > issued {
            return Ok(ChangeRead {
                events: Vec::new(),
                reset: true,
            });
        }
        let events = rows
            .iter()
            .map(|r| {
                Ok(ChangeEvent {
                    cursor: Cursor::int(r.try_get::<i64, _>("cursor")? as u64),
                    id: r.try_get("model")?,
                    etag: r.try_get("etag")?,
                    op: Op::parse(r.try_get("op")?).unwrap_or(Op::Updated),
                    by: Author {
                        sub: r.try_get("by_sub")?,
                        name: r.try_get("by_name")?,
                    },
                    updated: r.try_get("updated")?,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
            .map_err(db_error)?;
        Ok(ChangeRead {
            events,
            reset: false,
        })
    }

    async fn head(&self) -> Result<Cursor> {
        // The newest committed cursor (the sequence may be ahead by a write still in flight).
        let head: i64 = self
            .bounded(
                sqlx::query_scalar(
                    "SELECT greatest((SELECT max(cursor) FROM sa_changes), (SELECT floor FROM sa_changes_floor))",
                )
                .fetch_one(&self.pool),
            )
            .await?;
        Ok(Cursor::int(head as u64))
    }

    async fn wait_changes(&self, after: Cursor, limit: usize) -> Result<ChangeRead> {
        self.migrate().await?;
        let mut listener = self.listener.lock().await;
        if listener.is_none() {
            let mut l = self
                .bounded_raw(PgListener::connect_with(&self.pool))
                .await?;
            self.bounded_raw(l.listen(CHANNEL)).await?;
            *listener = Some(l);
        }
        // Listening before reading: a write that commits in between still wakes us.
        let read = self.changes(after, limit).await?;
        if !read.events.is_empty() || read.reset {
            return Ok(read);
        }
        if let Some(l) = listener.as_mut() {
            if let Ok(Err(e)) = tokio::time::timeout(BLOCK, l.recv()).await {
                *listener = None;
                return Err(db_error(e));
            }
        }
        self.changes(after, limit).await
    }
}
