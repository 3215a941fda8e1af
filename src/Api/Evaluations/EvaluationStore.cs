using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SegServe.Inference.Evaluation;

namespace SegServe.Api.Evaluations;

/// <summary>An evaluation run's settings.</summary>
public sealed record EvaluationRun(
    string Id,
    string Task,
    DateTimeOffset Created,
    int NumClasses,
    int IgnoreIndex,
    IReadOnlyList<string>? ClassNames,
    string? Model,
    string? Palette);

/// <summary>
/// A stored sample: its summary and its payload — a semantic sample's summed counts (<see cref="SemanticAccumulator.ToArray"/>
/// as bytes), or an instance sample's ground truth and detections (<see cref="InstanceSamples"/>).
/// </summary>
public sealed record StoredSample(string Name, long Pixels, double? PixelAccuracy, double? MeanIou, byte[] Payload, double? Ap = null);

/// <summary>
/// Evaluation runs in an embedded SQLite database (WAL journal): a run's settings, and one row per sample with its
/// summed counts. Samples are only ever inserted, so concurrent uploads to one run need no coordination beyond
/// SQLite's own; dataset scores are the sum of the samples' counts, computed when asked for.
/// </summary>
public sealed class EvaluationStore
{
    private readonly string _connectionString;
    private readonly Lazy<Task> _schema;

    public EvaluationStore(IOptions<EvaluationOptions> options, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        string path = Path.GetFullPath(options.Value.DatabasePath, environment.ContentRootPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DatabasePath = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
        _schema = new Lazy<Task>(CreateSchemaAsync);
    }

    public string DatabasePath { get; }

    public async Task<EvaluationRun> CreateAsync(EvaluationRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO runs (id, task, created, num_classes, ignore_index, class_names, model, palette)
            VALUES ($id, $task, $created, $classes, $ignore, $names, $model, $palette)
            """;
        command.Parameters.AddWithValue("$id", run.Id);
        command.Parameters.AddWithValue("$task", run.Task);
        command.Parameters.AddWithValue("$created", run.Created.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$classes", run.NumClasses);
        command.Parameters.AddWithValue("$ignore", run.IgnoreIndex);
        command.Parameters.AddWithValue("$names", run.ClassNames is null ? DBNull.Value : JsonSerializer.Serialize(run.ClassNames));
        command.Parameters.AddWithValue("$model", (object?)run.Model ?? DBNull.Value);
        command.Parameters.AddWithValue("$palette", (object?)run.Palette ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return run;
    }

    public async Task<EvaluationRun?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT task, created, num_classes, ignore_index, class_names, model, palette FROM runs WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new EvaluationRun(
            id,
            reader.GetString(0),
            DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            reader.GetInt32(2),
            reader.GetInt32(3),
            reader.IsDBNull(4) ? null : JsonSerializer.Deserialize<List<string>>(reader.GetString(4)),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetString(6));
    }

    /// <summary>Adds samples to a run in one transaction: all of them or none.</summary>
    public async Task AddSamplesAsync(string runId, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (StoredSample sample in samples)
        {
            await using SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO samples (run_id, name, pixels, pixel_accuracy, mean_iou, ap, sums)
                VALUES ($run, $name, $pixels, $accuracy, $miou, $ap, $sums)
                """;
            command.Parameters.AddWithValue("$run", runId);
            command.Parameters.AddWithValue("$name", sample.Name);
            command.Parameters.AddWithValue("$pixels", sample.Pixels);
            command.Parameters.AddWithValue("$accuracy", (object?)sample.PixelAccuracy ?? DBNull.Value);
            command.Parameters.AddWithValue("$miou", (object?)sample.MeanIou ?? DBNull.Value);
            command.Parameters.AddWithValue("$ap", (object?)sample.Ap ?? DBNull.Value);
            command.Parameters.AddWithValue("$sums", sample.Payload);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many samples the run has.</summary>
    public async Task<int> CountSamplesAsync(string runId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM samples WHERE run_id = $run";
        command.Parameters.AddWithValue("$run", runId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>The run's samples in the order they were added, and the sum of their counts (null without samples).</summary>
    public async Task<(List<StoredSample> Samples, SemanticAccumulator? Sums)> LoadSamplesAsync(EvaluationRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT name, pixels, pixel_accuracy, mean_iou, sums, ap FROM samples WHERE run_id = $run ORDER BY seq";
        command.Parameters.AddWithValue("$run", run.Id);
        var samples = new List<StoredSample>();
        SemanticAccumulator? total = null;
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            byte[] blob = (byte[])reader.GetValue(4);
            var sample = new StoredSample(
                reader.GetString(0),
                reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetDouble(2),
                reader.IsDBNull(3) ? null : reader.GetDouble(3),
                blob,
                reader.IsDBNull(5) ? null : reader.GetDouble(5));
            samples.Add(sample);
            if (run.Task == "semantic")
            {
                total ??= new SemanticAccumulator(run.NumClasses);
                total.Add(SemanticAccumulator.FromArray(run.NumClasses, MemoryMarshal.Cast<byte, long>(blob)));
            }
        }

        return (samples, total);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _schema.Value.ConfigureAwait(false);
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private async Task CreateSchemaAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
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
}
