using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SegServe.Api.Evaluations;
using SegServe.Inference.Evaluation;

namespace SegServe.Api.FunctionalTests;

/// <summary>A database written by the first version (dense sums, no staging columns) opens and reads as it was.</summary>
public sealed class EvaluationStoreMigrationTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"segserve-legacy-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task DenseSamplesOfTheFirstVersion_StillSumUp()
    {
        var legacy = new SemanticAccumulator(2);
        legacy.Confusion[0] = 5;
        legacy.Confusion[3] = 7;
        legacy.BoundaryUnion[1] = 2;
        await using (var connection = new SqliteConnection($"Data Source={_path}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using SqliteCommand create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE runs (id TEXT PRIMARY KEY, task TEXT NOT NULL, created TEXT NOT NULL, num_classes INTEGER NOT NULL,
                                   ignore_index INTEGER NOT NULL, class_names TEXT, model TEXT, palette TEXT);
                CREATE TABLE samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
                                      pixels INTEGER NOT NULL, pixel_accuracy REAL, mean_iou REAL, sums BLOB NOT NULL);
                INSERT INTO runs VALUES ('old', 'semantic', '2026-11-20T00:00:00.0000000+00:00', 2, 255, NULL, NULL, NULL);
                INSERT INTO samples (run_id, name, pixels, pixel_accuracy, mean_iou, sums) VALUES ('old', 'a', 12, 1.0, 1.0, $sums);
                """;
            create.Parameters.AddWithValue("$sums", MemoryMarshal.AsBytes(legacy.ToArray().AsSpan()).ToArray());
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var store = new EvaluationStore(Options.Create(new EvaluationOptions { DatabasePath = _path }), new Environment(), TimeProvider.System);
        EvaluationRun run = (await store.GetAsync("old", TestContext.Current.CancellationToken))!;
        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, TestContext.Current.CancellationToken);

        Assert.Single(samples);
        Assert.Equal(legacy.ToArray(), sums!.ToArray());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (string file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";

        public string ApplicationName { get; set; } = "SegServe.Api";

        public string ContentRootPath { get; set; } = Path.GetTempPath();

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
