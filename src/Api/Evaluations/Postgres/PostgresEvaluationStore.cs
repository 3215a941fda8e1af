using System.Data.Common;
using Npgsql;

namespace SegServe.Api.Evaluations.Postgres;

/// <summary>
/// Evaluation runs in PostgreSQL, shared by every instance of the service that names the same database. Connections
/// come from one pooled <see cref="NpgsqlDataSource"/> per process. A write that checks a quota first holds a
/// transaction-scoped advisory lock on its owner, which serialises it with the same owner's writes on every replica
/// and is released by the commit, the rollback, or the connection's end if the replica dies.
/// </summary>
public sealed class PostgresEvaluationStore : EvaluationStore
{
    // The first key of the two-key advisory locks that stand for owners ("SgOw"); the schema lock uses the one-key form,
    // a separate key space.
    private const int OwnerLockSpace = 0x5367_4F77;

    private readonly NpgsqlDataSource _dataSource;

    /// <param name="connectionString">An Npgsql connection string (<c>Host=…;Database=…;Username=…;Password=…</c>).</param>
    /// <param name="timeProvider">The clock of staged rows and of the cleanup of abandoned ones.</param>
    public PostgresEvaluationStore(string connectionString, TimeProvider timeProvider)
        : base(timeProvider)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "segserve";
        _dataSource = builder.Build();
    }

    public override string Kind => "postgresql";

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    protected override Task MigrateAsync(DbConnection connection) => PostgresSchema.MigrateAsync((NpgsqlConnection)connection);

    protected override async Task<DbTransaction> BeginOwnerTransactionAsync(DbConnection connection, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Each later statement of a READ COMMITTED transaction sees what the lock's previous holder committed.
            await connection.ExecuteAsync(transaction, "SELECT pg_advisory_xact_lock(@space, hashtext(@owner))", cancellationToken, ("@space", OwnerLockSpace), ("@owner", owner)).ConfigureAwait(false);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // timestamptz: Npgsql writes DateTimeOffset values only in UTC.
    protected override object ToDbTime(DateTimeOffset time) => time.ToUniversalTime();

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return reader.GetFieldValue<DateTimeOffset>(ordinal);
    }

    // timestamptz keeps microseconds; .NET ticks are a tenth of one.
    protected override DateTimeOffset AtStorePrecision(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    // The samples' foreign key: the run was deleted while this request was scoring.
    protected override bool IsMissingRun(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation };

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dataSource.Dispose();
        }

        base.Dispose(disposing);
    }
}
