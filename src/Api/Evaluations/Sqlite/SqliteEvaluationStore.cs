using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace SegServe.Api.Evaluations.Sqlite;

/// <summary>
/// Evaluation runs in an embedded SQLite database (WAL journal): the default, for one instance of the service. SQLite
/// has one writer at a time, so the per-owner write lock is the database's own (<c>BEGIN IMMEDIATE</c>).
/// </summary>
public sealed class SqliteEvaluationStore : EvaluationStore
{
    private readonly string _connectionString;

    /// <param name="path">The database file, created (with its folder) when absent.</param>
    /// <param name="timeProvider">The clock of staged rows and of the cleanup of abandoned ones.</param>
    public SqliteEvaluationStore(string path, TimeProvider timeProvider)
        : base(timeProvider)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DatabasePath = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    public override string Kind => "sqlite";

    public string DatabasePath { get; }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override Task MigrateAsync(DbConnection connection) => SqliteSchema.MigrateAsync((SqliteConnection)connection);

    // BEGIN IMMEDIATE takes the database's write lock at once (waiting up to DefaultTimeout for it), so that what the
    // transaction reads is still true when it writes: one writer at a time, in every process using the file.
    protected override Task<DbTransaction> BeginOwnerTransactionAsync(DbConnection connection, string owner, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    // SQLITE_CONSTRAINT_FOREIGNKEY (foreign keys are on in Microsoft.Data.Sqlite's build): the run was deleted while
    // this request was scoring.
    protected override bool IsMissingRun(DbException exception) =>
        exception is SqliteException { SqliteExtendedErrorCode: 787 };

    protected override object ToDbTime(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        DateTimeOffset.Parse(reader.GetString(ordinal), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
