-- One row per model. The document is JSONB; the summary columns are kept beside it so the
-- summary view never reads documents.
CREATE TABLE IF NOT EXISTS sa_models (
    id uuid PRIMARY KEY,
    doc jsonb NOT NULL,
    name text NOT NULL,
    name_lower text NOT NULL,
    etag text NOT NULL,
    size bigint NOT NULL,
    updated timestamptz NOT NULL
);
