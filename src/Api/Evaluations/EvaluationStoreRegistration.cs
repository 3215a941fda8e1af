using Microsoft.Extensions.Options;
using Npgsql;
using SegServe.Api.Apis;
using SegServe.Api.Evaluations.Postgres;
using SegServe.Api.Evaluations.Sqlite;
using SegServe.Api.Health;

namespace SegServe.Api.Evaluations;

/// <summary>Where evaluation runs are kept: <c>ConnectionStrings:Evaluations</c>, a PostgreSQL database, when set.</summary>
public sealed class EvaluationDatabaseOptions
{
    /// <summary>The name under <c>ConnectionStrings</c> (<c>ConnectionStrings__Evaluations</c> in the environment).</summary>
    public const string ConnectionStringName = "Evaluations";

    /// <summary>An Npgsql connection string; null or blank for the embedded SQLite database (<c>Evaluation:DatabasePath</c>).</summary>
    public string? ConnectionString { get; set; }

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(ConnectionString);
}

/// <summary>A connection string that Npgsql cannot read stops the service at start, saying what is wrong with it.</summary>
internal sealed class EvaluationDatabaseValidator : IValidateOptions<EvaluationDatabaseOptions>
{
    private const string Expected = "Write it as Host=HOST;Port=5432;Database=NAME;Username=USER;Password=PASSWORD (key=value pairs, not a postgres:// URL), "
        + "or leave ConnectionStrings:Evaluations unset to keep evaluation runs in the embedded SQLite database.";

    public ValidateOptionsResult Validate(string? name, EvaluationDatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.UsesPostgres)
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            return string.IsNullOrWhiteSpace(builder.Host)
                ? ValidateOptionsResult.Fail($"ConnectionStrings:Evaluations names no PostgreSQL Host. {Expected}")
                : ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // The parser's message names the keyword or the position, never a value.
            return ValidateOptionsResult.Fail($"ConnectionStrings:Evaluations is not a valid PostgreSQL connection string: {e.Message.TrimEnd('.')}. {Expected}");
        }
    }
}

public static class EvaluationStoreRegistration
{
    /// <summary>
    /// The evaluation store, chosen once at start: PostgreSQL when <c>ConnectionStrings:Evaluations</c> is set (what
    /// several replicas need: they share its runs), else SQLite at <c>Evaluation:DatabasePath</c>. Its readiness check
    /// keeps a replica out of rotation while its store does not answer.
    /// </summary>
    public static IServiceCollection AddEvaluationStore(this IServiceCollection services)
    {
        services.AddOptions<EvaluationDatabaseOptions>()
            .Configure<IConfiguration>(static (options, configuration) => options.ConnectionString = configuration.GetConnectionString(EvaluationDatabaseOptions.ConnectionStringName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EvaluationDatabaseOptions>, EvaluationDatabaseValidator>();
        services.AddSingleton<IEvaluationStore>(static sp =>
        {
            EvaluationDatabaseOptions database = sp.GetRequiredService<IOptions<EvaluationDatabaseOptions>>().Value;
            TimeProvider time = sp.GetRequiredService<TimeProvider>();
            ILogger logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IEvaluationStore).FullName!);
            if (database.UsesPostgres)
            {
                var described = new NpgsqlConnectionStringBuilder(database.ConnectionString);
                logger.LogInformation("Evaluation runs are kept in PostgreSQL: database {Database} on {Host}:{Port}.", described.Database ?? described.Username, described.Host, described.Port);
                return new PostgresEvaluationStore(database.ConnectionString!, time);
            }

            string path = Path.GetFullPath(sp.GetRequiredService<IOptions<EvaluationOptions>>().Value.DatabasePath, sp.GetRequiredService<IHostEnvironment>().ContentRootPath);
            logger.LogInformation("Evaluation runs are kept in SQLite at {Path} (one instance of the service; set ConnectionStrings:Evaluations to share them between replicas).", path);
            return new SqliteEvaluationStore(path, time);
        });
        services.AddHealthChecks().AddCheck<EvaluationStoreHealthCheck>("evaluations", tags: [HealthApi.ReadyTag], timeout: EvaluationStoreHealthCheck.Timeout);
        return services;
    }
}
