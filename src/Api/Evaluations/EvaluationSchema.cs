using System.Globalization;
using Microsoft.Data.Sqlite;

namespace SegServe.Api.Evaluations;

/// <summary>The evaluation database's tables and their migrations, applied once when the store is first used.</summary>
internal static class EvaluationSchema
{
    // A staged batch older than this belongs to a process that died mid-request: its rows are removed at start.
    private static readonly TimeSpan s_abandonedAfter = TimeSpan.FromHours(1);

    /// <summary>Creates the tables, adds the columns a database of an earlier version lacks, and removes abandoned staged rows.</summary>
    public static async Task CreateAsync(string connectionString, DateTimeOffset now)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = """
                PRAGMA journal_mode = WAL;
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
                    ap REAL,
                    sums BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS samples_by_run ON samples (run_id, seq);
                """;
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        // Columns added since the first version (a database written by it opens as it was).
        await AddMissingColumnsAsync(connection, "samples", [("ap", "REAL"), ("encoding", "INTEGER NOT NULL DEFAULT 0"), ("batch", "TEXT"), ("staged", "TEXT")]).ConfigureAwait(false);
        await AddMissingColumnsAsync(connection, "runs", [("owner", "TEXT NOT NULL DEFAULT 'anonymous'")]).ConfigureAwait(false);
        await using (SqliteCommand index = connection.CreateCommand())
        {
            index.CommandText = "CREATE INDEX IF NOT EXISTS runs_by_owner ON runs (owner)";
            await index.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await using (SqliteCommand cleanup = connection.CreateCommand())
        {
            cleanup.CommandText = "DELETE FROM samples WHERE batch IS NOT NULL AND staged < $cutoff";
            cleanup.Parameters.AddWithValue("$cutoff", (now - s_abandonedAfter).ToString("O", CultureInfo.InvariantCulture));
            await cleanup.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
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
