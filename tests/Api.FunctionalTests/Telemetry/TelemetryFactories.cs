using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using SegServe.Api.FunctionalTests.Infrastructure;

namespace SegServe.Api.FunctionalTests.Telemetry;

/// <summary>The default service with its spans exported to memory and its logs captured.</summary>
public sealed class TracedFactory : DefaultModelsFactory
{
    public SpanCollection Spans { get; } = [];

    public LogCapture Logs { get; } = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
        services.AddSingleton<ILoggerProvider>(Logs);
    }
}

/// <summary>The default service with <c>Telemetry:Enabled=false</c>.</summary>
public sealed class TelemetryOffFactory : DefaultModelsFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Telemetry:Enabled", "false");
    }
}

/// <summary>
/// The default service on real loopback sockets (Kestrel, not the in-memory test server), for scrapers outside the
/// process; optionally with <c>/metrics</c> on a port of its own, and with keys required for the API.
/// </summary>
public class KestrelFactory : DefaultModelsFactory
{
    public KestrelFactory() => UseKestrel();

    /// <summary>The metrics port, or null for <c>/metrics</c> on the service's own port.</summary>
    public virtual int? MetricsPort => null;

    /// <summary>The service's own address (loopback, port chosen by the system).</summary>
    public Uri Address
    {
        get
        {
            StartServer();
            ICollection<string> addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        }
    }

    /// <summary>A loopback port that is free now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("urls", "http://127.0.0.1:0");
        if (MetricsPort is int port)
        {
            builder.UseSetting("Telemetry:MetricsPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}

/// <summary>Kestrel with <c>/metrics</c> on a port of its own, and the API closed to callers without a key.</summary>
public sealed class MetricsPortFactory : KestrelFactory
{
    public override int? MetricsPort { get; } = FreePort();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Authentication:AllowAnonymous", "false");
    }
}

/// <summary>The default service with <c>Authentication:ProtectMetrics=true</c>, no anonymous access and one user key.</summary>
public sealed class ProtectedMetricsFactory : DefaultModelsFactory
{
    public const string Key = "metrics-test-key-0123456789";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Authentication:ProtectMetrics", "true");
        builder.UseSetting("Authentication:AllowAnonymous", "false");
        builder.UseSetting("Authentication:ApiKeys:0:Name", "scraper");
        builder.UseSetting("Authentication:ApiKeys:0:Sha256", Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Key))));
        builder.UseSetting("Authentication:ApiKeys:0:Roles:0", "user");
    }
}
