using Microsoft.Data.Sqlite;
using SegServe.Api.Evaluations;
using SegServe.Api.Evaluations.Sqlite;

namespace SegServe.Api.FunctionalTests.Evaluations;

/// <summary>The store contract on the embedded SQLite database (a file per test; several stores on it are several processes).</summary>
public sealed class SqliteEvaluationStoreTests : EvaluationStoreContract
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"segserve-store-{Guid.NewGuid():N}.db");

    protected override Task<EvaluationStore> OpenStoreAsync(TimeProvider time) => Task.FromResult<EvaluationStore>(new SqliteEvaluationStore(_path, time));

    protected override async Task CreateFirstVersionAsync(string runId, byte[] denseSums)
    {
        // The first version's tables: dense sums, no staging, no owners, and no user_version.
        await using SqliteConnection connection = await OpenAsync();
        await using SqliteCommand create = connection.CreateCommand();
        create.CommandText = """
            CREATE TABLE runs (id TEXT PRIMARY KEY, task TEXT NOT NULL, created TEXT NOT NULL, num_classes INTEGER NOT NULL,
                               ignore_index INTEGER NOT NULL, class_names TEXT, model TEXT, palette TEXT);
            CREATE TABLE samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
                                  pixels INTEGER NOT NULL, pixel_accuracy REAL, mean_iou REAL, sums BLOB NOT NULL);
            INSERT INTO runs VALUES ($run, 'semantic', '2026-11-20T00:00:00.0000000+00:00', 2, 255, NULL, NULL, NULL);
            INSERT INTO samples (run_id, name, pixels, pixel_accuracy, mean_iou, sums) VALUES ($run, 'a', 12, 1.0, 1.0, $sums);
            """;
        create.Parameters.AddWithValue("$run", runId);
        create.Parameters.AddWithValue("$sums", denseSums);
        await create.ExecuteNonQueryAsync(Ct);
    }

    protected override Task<long> SchemaVersionAsync() => ScalarAsync("PRAGMA user_version");

    protected override Task<long> StagedRowsAsync() => ScalarAsync("SELECT COUNT(*) FROM samples WHERE batch IS NOT NULL");

    protected override void DisposeDatabase()
    {
        SqliteConnection.ClearAllPools();
        foreach (string file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using SqliteConnection connection = await OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private async Task<SqliteConnection> OpenAsync()
    {
        var connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        await connection.OpenAsync(Ct);
        return connection;
    }
}
