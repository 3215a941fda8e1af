using System.Data.Common;
using System.Runtime.InteropServices;
using System.Text.Json;
using SegServe.Api.Problems;
using SegServe.Inference.Evaluation;

namespace SegServe.Api.Evaluations;

/// <summary>
/// Evaluation runs in a SQL database, through ADO.NET: a run's settings, and one row per sample with its summed counts,
/// stored sparsely. A request's samples are staged under a batch id, each in its own short insert, and published
/// together by one update — all of them or none, without holding a lock while a zip of thousands of pairs is scored,
/// and without holding the samples in memory. Dataset scores are the sum of the samples' counts, added up row by row
/// when asked for. The SQL is common to SQLite and PostgreSQL; a database supplies its connections, its schema
/// migrations, its time type and its per-owner write lock.
/// </summary>
public abstract class EvaluationStore : IEvaluationStore, IDisposable
{
    private const int DenseSums = 0;
    private const int SparseSums = 1;

    // A staged batch older than this belongs to a process that died mid-request: its rows are removed at start.
    private static readonly TimeSpan s_abandonedAfter = TimeSpan.FromHours(1);

    private readonly SemaphoreSlim _migration = new(1, 1);
    private volatile bool _migrated;

    protected EvaluationStore(TimeProvider timeProvider) => Time = timeProvider;

    public abstract string Kind { get; }

    protected TimeProvider Time { get; }

    public async Task<EvaluationRun> CreateAsync(EvaluationRun run, int maxRunsPerOwner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        run = run with { Created = AtStorePrecision(run.Created) };
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await BeginOwnerTransactionAsync(connection, run.Owner, cancellationToken).ConfigureAwait(false);
        long runs = await connection.ScalarAsync(transaction, "SELECT COUNT(*) FROM runs WHERE owner = @owner", cancellationToken, ("@owner", run.Owner)).ConfigureAwait(false);
        if (runs >= maxRunsPerOwner)
        {
            throw new QuotaExceededException($"'{run.Owner}' has {runs} evaluation runs, as many as it may ({maxRunsPerOwner}).");
        }

        await connection.ExecuteAsync(transaction, """
            INSERT INTO runs (id, task, created, num_classes, ignore_index, class_names, model, palette, owner)
            VALUES (@id, @task, @created, @classes, @ignore, @names, @model, @palette, @owner)
            """,
            cancellationToken,
            ("@id", run.Id), ("@task", run.Task), ("@created", ToDbTime(run.Created)), ("@classes", run.NumClasses), ("@ignore", run.IgnoreIndex),
            ("@names", run.ClassNames is null ? null : JsonSerializer.Serialize(run.ClassNames)), ("@model", run.Model), ("@palette", run.Palette), ("@owner", run.Owner)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return run;
    }

    public async Task<EvaluationRun?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbCommand command = connection.Command(null, "SELECT task, created, num_classes, ignore_index, class_names, model, palette, owner FROM runs WHERE id = @id", ("@id", id));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new EvaluationRun(
            id,
            reader.GetString(0),
            ReadTime(reader, 1),
            reader.GetInt32(2),
            reader.GetInt32(3),
            reader.IsDBNull(4) ? null : JsonSerializer.Deserialize<List<string>>(reader.GetString(4)),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? "anonymous" : reader.GetString(7));
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(transaction, "DELETE FROM samples WHERE run_id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
        int runs = await connection.ExecuteAsync(transaction, "DELETE FROM runs WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return runs > 0;
    }

    public async Task<long> CountRunsAsync(string owner, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ScalarAsync(null, "SELECT COUNT(*) FROM runs WHERE owner = @owner", cancellationToken, ("@owner", owner)).ConfigureAwait(false);
    }

    public async Task<long> StoredBytesAsync(string owner, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ScalarAsync(null, "SELECT COALESCE(SUM(length(s.sums) + length(s.name)), 0) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.owner = @owner", cancellationToken, ("@owner", owner)).ConfigureAwait(false);
    }

    public async Task<int> CountSamplesAsync(string runId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (int)await connection.ScalarAsync(null, "SELECT COUNT(*) FROM samples WHERE run_id = @run AND batch IS NULL", cancellationToken, ("@run", runId)).ConfigureAwait(false);
    }

    public async Task StageAsync(string runId, string batch, StoredSample sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(null, """
                INSERT INTO samples (run_id, name, pixels, pixel_accuracy, mean_iou, ap, sums, encoding, batch, staged)
                VALUES (@run, @name, @pixels, @accuracy, @miou, @ap, @sums, @encoding, @batch, @staged)
                """,
                cancellationToken,
                ("@run", runId), ("@name", sample.Name), ("@pixels", sample.Pixels), ("@accuracy", sample.PixelAccuracy), ("@miou", sample.MeanIou), ("@ap", sample.Ap),
                ("@sums", sample.Payload), ("@encoding", SparseSums), ("@batch", batch), ("@staged", ToDbTime(Time.GetUtcNow()))).ConfigureAwait(false);
        }
        catch (DbException e) when (IsMissingRun(e))
        {
            throw new EvaluationRunNotFoundException(runId);
        }
    }

    public async Task<int> PublishAsync(EvaluationRun run, string batch, SampleQuotas quotas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);

        // Under the owner's lock, so that two requests (or two replicas) publishing to the same owner's runs cannot both
        // pass a check that only one of them may: the counts read here are the ones the update is made against.
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await BeginOwnerTransactionAsync(connection, run.Owner, cancellationToken).ConfigureAwait(false);
        if (await connection.ScalarAsync(transaction, "SELECT COUNT(*) FROM runs WHERE id = @run", cancellationToken, ("@run", run.Id)).ConfigureAwait(false) == 0)
        {
            throw new EvaluationRunNotFoundException(run.Id);
        }

        long existing = await connection.ScalarAsync(transaction, "SELECT COUNT(*) FROM samples WHERE run_id = @run AND batch IS NULL", cancellationToken, ("@run", run.Id)).ConfigureAwait(false);
        long adding = await connection.ScalarAsync(transaction, "SELECT COUNT(*) FROM samples WHERE batch = @batch", cancellationToken, ("@batch", batch)).ConfigureAwait(false);
        if (existing + adding > quotas.MaxSamplesPerRun)
        {
            throw new QuotaExceededException($"Evaluation run '{run.Id}' would hold more than {quotas.MaxSamplesPerRun} samples (it has {existing}; this request adds {adding}); start another run.");
        }

        long bytes = await connection.ScalarAsync(
            transaction,
            "SELECT COALESCE(SUM(length(s.sums) + length(s.name)), 0) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.owner = @owner AND (s.batch IS NULL OR s.batch = @batch)",
            cancellationToken,
            ("@owner", run.Owner),
            ("@batch", batch)).ConfigureAwait(false);
        if (bytes > quotas.MaxStoredBytesPerOwner)
        {
            throw new QuotaExceededException($"'{run.Owner}' would store more than {quotas.MaxStoredBytesPerOwner} bytes of evaluation samples (its quota); runs can still be read, but new samples need room.");
        }

        await connection.ExecuteAsync(transaction, "UPDATE samples SET batch = NULL, staged = NULL WHERE batch = @batch", cancellationToken, ("@batch", batch)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (int)(existing + adding);
    }

    public async Task DiscardAsync(string batch, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(null, "DELETE FROM samples WHERE batch = @batch", cancellationToken, ("@batch", batch)).ConfigureAwait(false);
    }

    public async Task<(List<StoredSample> Samples, SemanticAccumulator? Sums)> LoadSamplesAsync(EvaluationRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbCommand command = connection.Command(null, "SELECT name, pixels, pixel_accuracy, mean_iou, sums, ap, encoding FROM samples WHERE run_id = @run AND batch IS NULL ORDER BY seq", ("@run", run.Id));
        bool semantic = run.Task == "semantic";
        var samples = new List<StoredSample>();
        SemanticAccumulator? total = null;
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
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

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ScalarAsync(null, "SELECT 1", cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _migration.Dispose();
        }
    }

    /// <summary>An open connection to the database, not yet migrated.</summary>
    protected abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Brings the schema to the current version (a database written by an earlier version is upgraded in place).</summary>
    protected abstract Task MigrateAsync(DbConnection connection);

    /// <summary>A transaction in which no other writer for <paramref name="owner"/> runs until it ends, in this process or any other.</summary>
    protected abstract Task<DbTransaction> BeginOwnerTransactionAsync(DbConnection connection, string owner, CancellationToken cancellationToken);

    /// <summary>A point in time as the database stores it.</summary>
    protected abstract object ToDbTime(DateTimeOffset time);

    /// <summary>A point in time as the database stored it.</summary>
    protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    /// <summary>A point in time rounded as the database will store it, so that a run reads back as it was created.</summary>
    protected virtual DateTimeOffset AtStorePrecision(DateTimeOffset time) => time;

    /// <summary>Whether a failed insert of a sample means that its run does not exist (any more).</summary>
    protected virtual bool IsMissingRun(DbException exception) => false;

    /// <summary>An open connection to a migrated database. The first call migrates; one that fails is retried by the next.</summary>
    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_migrated)
            {
                await _migration.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (!_migrated)
                    {
                        // Not cancelled with the request that happens to come first: a migration is all or nothing anyway.
                        await MigrateAsync(connection).ConfigureAwait(false);
                        await connection.ExecuteAsync(null, "DELETE FROM samples WHERE batch IS NOT NULL AND staged < @cutoff", CancellationToken.None, ("@cutoff", ToDbTime(Time.GetUtcNow() - s_abandonedAfter))).ConfigureAwait(false);
                        _migrated = true;
                    }
                }
                finally
                {
                    _migration.Release();
                }
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
