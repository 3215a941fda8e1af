using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SegServe.Api.Security;
using SegServe.Inference.Scheduling;
using SegServe.Inference.Telemetry;

namespace SegServe.Api.Hosting;

/// <summary>Traces, metrics and log export, bound from <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>The path Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Whether OpenTelemetry runs at all: traces, metrics, <c>/metrics</c> and OTLP export. On by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The <c>service.name</c> of the resource every span, metric and log carries.</summary>
    [Required]
    public string ServiceName { get; set; } = "segserve";

    /// <summary>
    /// A port of its own for <c>/metrics</c>: Kestrel listens on it besides the service's own URLs, and <c>/metrics</c>
    /// answers there only (nothing else does), so scraping can stay inside the cluster. Null: <c>/metrics</c> on the
    /// service's own port.
    /// </summary>
    [Range(1, 65535)]
    public int? MetricsPort { get; set; }

    /// <summary>Where traces, metrics and logs are pushed; off unless an endpoint is set here or in <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public OtlpSettings Otlp { get; set; } = new();
}

/// <summary>The OTLP exporter's endpoint and protocol.</summary>
public sealed class OtlpSettings
{
    /// <summary>The collector's base URL, e.g. <c>http://otel-collector:4317</c>; overrides <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> (the default) or <c>http/protobuf</c>.</summary>
    [RegularExpression("^(grpc|http/protobuf)$")]
    public string Protocol { get; set; } = "grpc";
}

/// <summary>
/// OpenTelemetry for the host: ASP.NET Core's request spans with the engine's stage and batch spans
/// (<see cref="InferenceTelemetry.SourceName"/>); the queues' instruments (<see cref="InferenceMetrics.MeterName"/>), the
/// host's own (<see cref="ApiMetrics.MeterName"/>), HTTP server, runtime and process metrics, scraped by Prometheus on
/// <c>/metrics</c>; OTLP export of all three signals when an endpoint is configured. Logs carry trace and span ids.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>The standard variable naming the OTLP collector (read by the exporter itself).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddSegServeTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName).ValidateDataAnnotations()
            .Validate(static o => o.Otlp.Endpoint is null || Uri.TryCreate(o.Otlp.Endpoint, UriKind.Absolute, out _), "Telemetry:Otlp:Endpoint must be an absolute URL.")
            .ValidateOnStart();
        services.AddSingleton<ApiMetrics>();

        // Every log line written while a request (or a batch) is traced carries its trace and span ids as scope.
        builder.Logging.Configure(static o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        TelemetryOptions settings = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!settings.Enabled)
        {
            return builder;
        }

        if (settings.MetricsPort is int port)
        {
            ListenAlsoOn(builder, port);
        }

        OpenTelemetryBuilder telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(settings.ServiceName))
            .WithTracing(static tracing => tracing
                .AddAspNetCoreInstrumentation(static o => o.Filter = static context => !IsProbe(context.Request.Path))
                .AddSource(InferenceTelemetry.SourceName))
            .WithMetrics(static metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddProcessInstrumentation()
                .AddMeter(InferenceMetrics.MeterName, ApiMetrics.MeterName)
                .AddPrometheusExporter());

        string? endpoint = settings.Otlp.Endpoint;
        if (endpoint is not null)
        {
            OtlpExportProtocol protocol = settings.Otlp.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            telemetry.WithLogging().UseOtlpExporter(protocol, new Uri(endpoint, UriKind.Absolute));
        }
        else if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]))
        {
            // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, protocol, headers) itself.
            telemetry.WithLogging().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// <c>/metrics</c> for Prometheus: without a key unless <c>Authentication:ProtectMetrics</c>, never rate limited; on
    /// the metrics port only when one is configured (which then answers nothing else).
    /// </summary>
    public static WebApplication UseSegServeTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        TelemetryOptions settings = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (!settings.Enabled)
        {
            return app;
        }

        if (settings.MetricsPort is int port)
        {
            // By the port the connection came in on (not the Host header, which the caller chooses).
            app.Use((context, next) =>
            {
                bool onMetricsPort = context.Connection.LocalPort == port;
                bool metrics = context.Request.Path.StartsWithSegments(TelemetryOptions.MetricsPath);
                if (onMetricsPort != metrics)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        IEndpointConventionBuilder scrape = app.MapPrometheusScrapingEndpoint(TelemetryOptions.MetricsPath).ExcludeFromDescription();
        if (app.Services.GetRequiredService<IOptions<ApiKeyOptions>>().Value.ProtectMetrics)
        {
            scrape.RequireAuthorization(Roles.UserPolicy);
        }

        return app;
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(TelemetryOptions.MetricsPath) || path.StartsWithSegments("/health");

    /// <summary>Adds the metrics port to the URLs Kestrel listens on (what <c>urls</c>, or else <c>http_ports</c>, names, or Kestrel's default).</summary>
    private static void ListenAlsoOn(WebApplicationBuilder builder, int port)
    {
        string? urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(urls))
        {
            string? ports = builder.Configuration[WebHostDefaults.HttpPortsKey];
            urls = string.IsNullOrWhiteSpace(ports)
                ? "http://localhost:5000"
                : string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(static p => $"http://*:{p}"));
        }

        // The metrics port first: hosts and tests that take "the" address take the last one, the service's own.
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, $"http://*:{port};{urls}");
    }
}
