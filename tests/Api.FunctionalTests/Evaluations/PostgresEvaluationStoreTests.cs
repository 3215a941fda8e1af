using Npgsql;
using SegServe.Api.Evaluations;
using SegServe.Api.Evaluations.Postgres;
using SegServe.Api.FunctionalTests.Infrastructure;

namespace SegServe.Api.FunctionalTests.Evaluations;

/// <summary>
/// The store contract on a real PostgreSQL server (a database per test; several stores on it, each with its own
/// connection pool, are several replicas). Skips, saying how to install it, without PostgreSQL's binaries.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class PostgresEvaluationStoreTests(PostgresServer server) : EvaluationStoreContract
{
    private string? _connectionString;

    protected override async Task<EvaluationStore> OpenStoreAsync(TimeProvider time) =>
        new PostgresEvaluationStore(await DatabaseAsync(), time);

    protected override async Task CreateFirstVersionAsync(string runId, byte[] denseSums)
    {
        // Version 1 as a build of that version wrote it: its tables, and its row in schema_version.
        await using NpgsqlConnection connection = await OpenAsync();
        await using var create = new NpgsqlCommand("""
            CREATE TABLE schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now());
            INSERT INTO schema_version (version) VALUES (1);
            CREATE TABLE runs (id text PRIMARY KEY, task text NOT NULL, created timestamptz NOT NULL, num_classes integer NOT NULL,
                               ignore_index integer NOT NULL, class_names text, model text, palette text);
            CREATE TABLE samples (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id text NOT NULL REFERENCES runs (id),
                                  name text NOT NULL, pixels bigint NOT NULL, pixel_accuracy double precision, mean_iou double precision,
                                  sums bytea NOT NULL);
            CREATE INDEX samples_by_run ON samples (run_id, seq);
            INSERT INTO runs VALUES (@run, 'semantic', '2026-11-20T00:00:00+00:00', 2, 255, NULL, NULL, NULL);
            INSERT INTO samples (run_id, name, pixels, pixel_accuracy, mean_iou, sums) VALUES (@run, 'a', 12, 1.0, 1.0, @sums);
            """, connection);
        create.Parameters.AddWithValue("run", runId);
        create.Parameters.AddWithValue("sums", denseSums);
        await create.ExecuteNonQueryAsync(Ct);
    }

    protected override Task<long> SchemaVersionAsync() => ScalarAsync("SELECT MAX(version) FROM schema_version");

    protected override Task<long> StagedRowsAsync() => ScalarAsync("SELECT COUNT(*) FROM samples WHERE batch IS NOT NULL");

    protected override void DisposeDatabase()
    {
        // The server and its data directory are deleted once all tests are done.
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(await DatabaseAsync());
        await connection.OpenAsync(Ct);
        return connection;
    }

    private async Task<string> DatabaseAsync() => _connectionString ??= await server.CreateDatabaseAsync();
}
