-- Every write keeps a version (its document, except for deletes) and a change event, in the
-- same transaction as the model. `cursor` orders the writes of the store.
CREATE SEQUENCE IF NOT EXISTS sa_change_cursor;
CREATE TABLE IF NOT EXISTS sa_versions (
    model uuid NOT NULL,
    cursor bigint NOT NULL,
    etag text NOT NULL,
    op text NOT NULL,
    by_sub text NOT NULL,
    by_name text NOT NULL,
    size bigint NOT NULL,
    updated timestamptz NOT NULL,
    doc jsonb,
    PRIMARY KEY (model, cursor)
);
CREATE TABLE IF NOT EXISTS sa_changes (
    cursor bigint PRIMARY KEY,
    model uuid NOT NULL,
    etag text NOT NULL,
    op text NOT NULL,
    by_sub text NOT NULL,
    by_name text NOT NULL,
    updated timestamptz NOT NULL
);
-- Deleted models that can still be restored, with the summary they had.
CREATE TABLE IF NOT EXISTS sa_deleted (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    name_lower text NOT NULL,
    etag text NOT NULL,
    size bigint NOT NULL,
    deleted timestamptz NOT NULL
);
-- The newest cursor trimmed from sa_changes: a reader behind it must reset.
CREATE TABLE IF NOT EXISTS sa_changes_floor (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    floor bigint NOT NULL
);
INSERT INTO sa_changes_floor (floor) VALUES (0) ON CONFLICT DO NOTHING;
