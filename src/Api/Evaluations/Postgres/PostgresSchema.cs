using Npgsql;

namespace SegServe.Api.Evaluations.Postgres;

/// <summary>
/// The PostgreSQL schema and its migrations, numbered in a <c>schema_version</c> table (one row per applied version).
/// Its history is the SQLite database's: 1, the first layout (dense sums, no staging, no owners); 2, instance AP,
/// sparse sums, staged batches and owners. Migrations only add, so an older build keeps working on a database a newer
/// one has migrated (replicas of both run side by side during a rolling update).
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The key of the advisory lock that lets one replica at a time migrate ("SegServe schema").</summary>
    public const long MigrationLock = 0x5365_6753_6572_7665;

    /// <summary>Migration <c>i</c> brings the schema from version <c>i</c> to <c>i + 1</c>.</summary>
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE runs (
            id text PRIMARY KEY,
            task text NOT NULL,
            created timestamptz NOT NULL,
            num_classes integer NOT NULL,
            ignore_index integer NOT NULL,
            class_names text,
            model text,
            palette text);
        CREATE TABLE samples (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run_id text NOT NULL REFERENCES runs (id),
            name text NOT NULL,
            pixels bigint NOT NULL,
            pixel_accuracy double precision,
            mean_iou double precision,
            sums bytea NOT NULL);
        CREATE INDEX samples_by_run ON samples (run_id, seq);
        """,
        """
        ALTER TABLE samples
            ADD COLUMN ap double precision,
            ADD COLUMN encoding integer NOT NULL DEFAULT 0,
            ADD COLUMN batch text,
            ADD COLUMN staged timestamptz;
        ALTER TABLE runs ADD COLUMN owner text NOT NULL DEFAULT 'anonymous';
        CREATE INDEX runs_by_owner ON runs (owner);
        CREATE INDEX samples_staged ON samples (batch) WHERE batch IS NOT NULL;
        """,
    ];

    public static int Version => s_migrations.Length;

    /// <summary>
    /// Applies the migrations the database lacks, all in one transaction under an advisory lock: replicas starting
    /// together migrate one after the other (the later ones find nothing to do), and a migration that fails leaves the
    /// database as it was.
    /// </summary>
    public static async Task MigrateAsync(NpgsqlConnection connection)
    {
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "SELECT pg_advisory_xact_lock(@key)", CancellationToken.None, ("@key", MigrationLock)).ConfigureAwait(false);

        // Created under the lock too: two CREATE TABLE IF NOT EXISTS at once can both try, and one fail.
        await connection.ExecuteAsync(transaction, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())", CancellationToken.None).ConfigureAwait(false);
        long current = await connection.ScalarAsync(transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version", CancellationToken.None).ConfigureAwait(false);
        for (long version = current + 1; version <= s_migrations.Length; version++)
        {
            await connection.ExecuteAsync(transaction, s_migrations[version - 1], CancellationToken.None).ConfigureAwait(false);
            await connection.ExecuteAsync(transaction, "INSERT INTO schema_version (version) VALUES (@version)", CancellationToken.None, ("@version", (int)version)).ConfigureAwait(false);
        }

        await transaction.CommitAsync().ConfigureAwait(false);
    }
}
