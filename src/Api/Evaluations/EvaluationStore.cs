using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SegServe.Inference.Evaluation;

namespace SegServe.Api.Evaluations;

/// <summary>An evaluation run's settings, and who owns it (the API key that created it, or <c>anonymous</c>).</summary>
public sealed record EvaluationRun(
    string Id,
    string Task,
    DateTimeOffset Created,
    int NumClasses,
    int IgnoreIndex,
    IReadOnlyList<string>? ClassNames,
    string? Model,
    string? Palette,
    string Owner = "anonymous");

/// <summary>
/// A stored sample: its summary and its payload — a semantic sample's summed counts (<see cref="SemanticAccumulator.ToSparse"/>),
/// or an instance sample's ground truth and detections (<see cref="InstanceSamples"/>).
/// </summary>
public sealed record StoredSample(string Name, long Pixels, double? PixelAccuracy, double? MeanIou, byte[] Payload, double? Ap = null);

/// <summary>
/// Evaluation runs in an embedded SQLite database (WAL journal): a run's settings, and one row per sample with its
/// summed counts, stored sparsely. A request's samples are staged under a batch id, each in its own short insert, and
/// published together by one update — all of them or none, without holding the database's write lock while a zip of
/// thousands of pairs is scored, and without holding the samples in memory. Dataset scores are the sum of the
/// samples' counts, added up row by row when asked for.
/// </summary>
public sealed class EvaluationStore
{
    private const int DenseSums = 0;
    private const int SparseSums = 1;

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly Lazy<Task> _schema;

    public EvaluationStore(IOptions<EvaluationOptions> options, IHostEnvironment environment, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        string path = Path.GetFullPath(options.Value.DatabasePath, environment.ContentRootPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DatabasePath = path;
        _time = timeProvider;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
        _schema = new Lazy<Task>(() => EvaluationSchema.CreateAsync(_connectionString, _time.GetUtcNow()));
    }

    public string DatabasePath { get; }

    public async Task<EvaluationRun> CreateAsync(EvaluationRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO runs (id, task, created, num_classes, ignore_index, class_names, model, palette, owner)
            VALUES ($id, $task, $created, $classes, $ignore, $names, $model, $palette, $owner)
            """;
        command.Parameters.AddWithValue("$owner", run.Owner);
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
        command.CommandText = "SELECT task, created, num_classes, ignore_index, class_names, model, palette, owner FROM runs WHERE id = $id";
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
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? "anonymous" : reader.GetString(7));
    }

    /// <summary>How many runs <paramref name="owner"/> has.</summary>
    public Task<long> CountRunsAsync(string owner, CancellationToken cancellationToken) =>
        ScalarAsync("SELECT COUNT(*) FROM runs WHERE owner = $owner", owner, cancellationToken);

    /// <summary>The bytes of stored samples (published or staged) in the runs of <paramref name="owner"/>.</summary>
    public Task<long> StoredBytesAsync(string owner, CancellationToken cancellationToken) =>
        ScalarAsync("SELECT COALESCE(SUM(length(s.sums) + length(s.name)), 0) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.owner = $owner", owner, cancellationToken);

    private async Task<long> ScalarAsync(string sql, string owner, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$owner", owner);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Stages one sample of <paramref name="batch"/>: stored, but not part of the run until the batch is published.</summary>
    public async Task StageAsync(string runId, string batch, StoredSample sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO samples (run_id, name, pixels, pixel_accuracy, mean_iou, ap, sums, encoding, batch, staged)
            VALUES ($run, $name, $pixels, $accuracy, $miou, $ap, $sums, $encoding, $batch, $staged)
            """;
        command.Parameters.AddWithValue("$run", runId);
        command.Parameters.AddWithValue("$name", sample.Name);
        command.Parameters.AddWithValue("$pixels", sample.Pixels);
        command.Parameters.AddWithValue("$accuracy", (object?)sample.PixelAccuracy ?? DBNull.Value);
        command.Parameters.AddWithValue("$miou", (object?)sample.MeanIou ?? DBNull.Value);
        command.Parameters.AddWithValue("$ap", (object?)sample.Ap ?? DBNull.Value);
        command.Parameters.AddWithValue("$sums", sample.Payload);
        command.Parameters.AddWithValue("$encoding", SparseSums);
        command.Parameters.AddWithValue("$batch", batch);
        command.Parameters.AddWithValue("$staged", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Makes every staged sample of <paramref name="batch"/> part of its run, at once.</summary>
    public Task PublishAsync(string batch, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE samples SET batch = NULL, staged = NULL WHERE batch = $batch", batch, cancellationToken);

    /// <summary>Removes the staged samples of a batch that failed.</summary>
    public Task DiscardAsync(string batch, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM samples WHERE batch = $batch", batch, cancellationToken);

    /// <summary>How many samples the run has.</summary>
    public async Task<int> CountSamplesAsync(string runId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM samples WHERE run_id = $run AND batch IS NULL";
        command.Parameters.AddWithValue("$run", runId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The run's samples in the order they were added, and the sum of their counts (null without samples). Semantic
    /// samples' counts are added up as they are read and not kept; instance samples keep their payloads (AP is
    /// computed over all of them together).
    /// </summary>
    public async Task<(List<StoredSample> Samples, SemanticAccumulator? Sums)> LoadSamplesAsync(EvaluationRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT name, pixels, pixel_accuracy, mean_iou, sums, ap, encoding FROM samples WHERE run_id = $run AND batch IS NULL ORDER BY seq";
        command.Parameters.AddWithValue("$run", run.Id);
        bool semantic = run.Task == "semantic";
        var samples = new List<StoredSample>();
        SemanticAccumulator? total = null;
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            byte[] blob = (byte[])reader.GetValue(4);
            if (semantic)
            {
                total ??= new SemanticAccumulator(run.NumClasses);
                if (reader.GetInt32(6) == DenseSums)
                {
                    // Written by a version before sparse storage.
                    total.Add(SemanticAccumulator.FromArray(run.NumClasses, MemoryMarshal.Cast<byte, long>(blob)));
                }
                else
                {
                    total.AddSparse(blob);
                }

                blob = [];
            }

            samples.Add(new StoredSample(
                reader.GetString(0),
                reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetDouble(2),
                reader.IsDBNull(3) ? null : reader.GetDouble(3),
                blob,
                reader.IsDBNull(5) ? null : reader.GetDouble(5)));
        }

        return (samples, total);
    }

    private async Task ExecuteAsync(string sql, string batch, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$batch", batch);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _schema.Value.ConfigureAwait(false);
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
