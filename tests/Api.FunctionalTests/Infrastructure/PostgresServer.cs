using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>The tests that need a PostgreSQL server share one (starting it takes a few seconds).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}

/// <summary>
/// A real PostgreSQL server for the tests: Debian's binaries (<c>/usr/lib/postgresql/N/bin</c>, or on the PATH), a
/// cluster initialised in a temporary folder, listening on 127.0.0.1 at a free port with its unix socket in that folder,
/// stopped and deleted afterwards. PostgreSQL refuses to run as root, so as root it runs as the <c>postgres</c> user.
/// Without the binaries, the tests that need it skip, saying how to install them.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string Install = "install Debian's 'postgresql' package (apt-get install -y --no-install-recommends postgresql; .ci/setup.d/20-postgresql.sh does) to run it";

    private string? _bin;
    private DirectoryInfo? _folder;
    private string? _skipReason;

    /// <summary>Where the server listens.</summary>
    public int Port { get; private set; }

    /// <summary>How long the server took to initialise and start.</summary>
    public TimeSpan StartTime { get; private set; }

    private string DataDirectory => Path.Combine(_folder!.FullName, "data");

    public async ValueTask InitializeAsync()
    {
        _bin = FindBinaries();
        if (_bin is null)
        {
            _skipReason = $"No PostgreSQL server binaries (initdb, pg_ctl) were found in /usr/lib/postgresql/*/bin or on the PATH: {Install}.";
            return;
        }

        if (Environment.IsPrivilegedProcess && !await SucceedsAsync("id", "-u", "postgres"))
        {
            _skipReason = $"The tests run as root and there is no 'postgres' user for PostgreSQL to run as: {Install}.";
            return;
        }

        var clock = Stopwatch.StartNew();
        _folder = Directory.CreateTempSubdirectory("segserve-pg-");
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", "-R", "postgres:", _folder.FullName);
        }

        await RunAsServerAsync("initdb", "-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");

        // A port found free may be taken before the server binds it: try a few.
        for (int attempt = 1; ; attempt++)
        {
            Port = FreePort();
            string options = $"-h 127.0.0.1 -p {Port} -k {_folder.FullName} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
            if (await SucceedsAsServerAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_folder.FullName, "server.log"), "-w", "-t", "60", "-o", options, "start"))
            {
                break;
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException($"PostgreSQL did not start: {await File.ReadAllTextAsync(Path.Combine(_folder.FullName, "server.log"))}");
            }
        }

        StartTime = clock.Elapsed;
    }

    /// <summary>Skips the calling test when there is no server, saying why.</summary>
    public void SkipIfUnavailable()
    {
        if (_skipReason is not null)
        {
            Assert.Skip(_skipReason);
        }
    }

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        SkipIfUnavailable();
        string name = $"segserve_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_folder is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            await SucceedsAsServerAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop");
        }

        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Database = database, Username = "postgres", Timeout = 30 }.ToString();

    private static string? FindBinaries()
    {
        IEnumerable<string> debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(static d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0).Select(static d => Path.Combine(d, "bin"))
            : [];
        IEnumerable<string> path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return debian.Concat(path).FirstOrDefault(static d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private async Task RunAsServerAsync(string tool, params string[] arguments)
    {
        (int code, string output) = await ExecuteAsServerAsync(tool, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} exited with {code}: {output}");
        }
    }

    private async Task<bool> SucceedsAsServerAsync(string tool, params string[] arguments) => (await ExecuteAsServerAsync(tool, arguments)).Code == 0;

    private Task<(int Code, string Output)> ExecuteAsServerAsync(string tool, string[] arguments)
    {
        string program = Path.Combine(_bin!, tool);
        return Environment.IsPrivilegedProcess
            ? ExecuteAsync("runuser", ["-u", "postgres", "--", program, .. arguments])
            : ExecuteAsync(program, arguments);
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        (int code, string output) = await ExecuteAsync(program, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{program} exited with {code}: {output}");
        }
    }

    private static async Task<bool> SucceedsAsync(string program, params string[] arguments) => (await ExecuteAsync(program, arguments)).Code == 0;

    private static async Task<(int Code, string Output)> ExecuteAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output) + (await error));
    }
}
