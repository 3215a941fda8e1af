using Microsoft.Data.Sqlite;

namespace SegServe.Api.Evaluations.Sqlite;

/// <summary>
/// The SQLite database's tables and their migrations, applied once when the store is first used. Versions (in
/// <c>PRAGMA user_version</c>, 0 in a database written before it was kept): 1, the first layout (dense sums, no
/// staging, no owners); 2, instance AP, sparse sums, staged batches and owners. The PostgreSQL schema has the same history.
/// </summary>
internal static class SqliteSchema
{
    public const int Version = 2;

    /// <summary>
    /// Creates the tables and adds the columns a database of an earlier version lacks (it opens as it was), in one
    /// transaction holding the write lock: two processes opening one new file do not both add a column.
    /// </summary>
    public static async Task MigrateAsync(SqliteConnection connection)
    {
        await using (SqliteCommand wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL"; // not within a transaction
            await wal.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        await using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = """
                CREATE TABLE IF NOT EXISTS runs (
                    id TEXT PRIMARY KEY,
                    task TEXT NOT NULL,
                    created TEXT NOT NULL,
                    num_classes INTEGER NOT NULL,
                    ignore_index INTEGER NOT NULL,
                    class_names TEXT,
                    model TEXT,
                    palette TEXT);
                CREATE TABLE IF NOT EXISTS samples (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    name TEXT NOT NULL,
                    pixels INTEGER NOT NULL,
                    pixel_accuracy REAL,
                    mean_iou REAL,
                    sums BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS samples_by_run ON samples (run_id, seq);
                """;
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        // Columns added since the first version. Found by name rather than by user_version, which databases written
        // before it was kept leave at 0 whatever columns they have.
        await AddMissingColumnsAsync(connection, "samples", [("ap", "REAL"), ("encoding", "INTEGER NOT NULL DEFAULT 0"), ("batch", "TEXT"), ("staged", "TEXT")]).ConfigureAwait(false);
        await AddMissingColumnsAsync(connection, "runs", [("owner", "TEXT NOT NULL DEFAULT 'anonymous'")]).ConfigureAwait(false);
        await using (SqliteCommand index = connection.CreateCommand())
        {
            // A publish or discard finds its batch's rows by index, not by reading every sample.
            index.CommandText = """
                CREATE INDEX IF NOT EXISTS runs_by_owner ON runs (owner);
                CREATE INDEX IF NOT EXISTS samples_staged ON samples (batch) WHERE batch IS NOT NULL;
                """;
            await index.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        // Recorded, not lowered: a database a later version has migrated further is left as that version wrote it.
        await using (SqliteCommand version = connection.CreateCommand())
        {
            version.CommandText = "PRAGMA user_version";
            if (Convert.ToInt64(await version.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) < Version)
            {
                version.CommandText = $"PRAGMA user_version = {Version}";
                await version.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync().ConfigureAwait(false);
    }

    private static async Task AddMissingColumnsAsync(SqliteConnection connection, string table, (string Column, string Definition)[] wanted)
    {
        var columns = new HashSet<string>(StringComparer.Ordinal);
        await using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
            await using SqliteDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                columns.Add(reader.GetString(0));
            }
        }

        foreach ((string column, string definition) in wanted)
        {
            if (!columns.Contains(column))
            {
                await using SqliteCommand alter = connection.CreateCommand();
                alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition}";
                await alter.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
    }
}
