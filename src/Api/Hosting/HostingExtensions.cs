using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using SegServe.Api.Apis;
using SegServe.Api.Evaluations;
using SegServe.Api.Health;
using SegServe.Api.Problems;
using SegServe.Api.Security;
using SegServe.Api.Uploads;
using SegServe.Inference;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Scheduling;

namespace SegServe.Api.Hosting;

/// <summary>Service registration and middleware of the host.</summary>
public static class HostingExtensions
{
    public static WebApplicationBuilder AddSegServe(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;

        services.AddOptions<InferenceOptions>()
            .BindConfiguration(InferenceOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(static o => TryValidate(o.Images), "Inference:Images has an invalid limit (MaxBytes 1–1073741824, MaxPixels ≥ 1, MaxAspectRatio 1–1000000, MaxDecodeMilliseconds 1–600000, MaxDecodedBytesInFlight ≥ 1, AdmissionWaitMilliseconds 0–60000).")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<InferenceOptions>, ImageLimitsValidator>();
        services.AddSingleton<IValidateOptions<InferenceOptions>, Inference.Execution.GpuRequirement>();
        services.AddOptions<EvaluationOptions>().BindConfiguration(EvaluationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HealthOptions>()
            .BindConfiguration(HealthOptions.SectionName)
            .Validate(static o => o.RequiredModels.TrueForAll(static n => !string.IsNullOrWhiteSpace(n)), "Health:RequiredModels lists an empty model name.")
            .ValidateOnStart();

        // The engine: one repository of models loading in the background, one pipeline for every request.
        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<InferenceMetrics>();
        services.AddSingleton(static sp => new ModelRepository(
            sp.GetRequiredService<IOptions<InferenceOptions>>(),
            sp.GetRequiredService<ILogger<ModelRepository>>(),
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<InferenceMetrics>()));
        services.AddSingleton<IModelRegistry>(static sp => sp.GetRequiredService<ModelRepository>());
        services.AddHostedService<ModelLoader>();
        services.AddHostedService<ModelWatcher>();
        services.AddSingleton(static sp =>
        {
            ImageLimits images = sp.GetRequiredService<IOptions<InferenceOptions>>().Value.Images;
            ImagingMemory.Configure(images.PoolMegabytes);
            return new ImageDecoder(images, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<SegmentationPipeline>();
        services.AddSingleton<SemanticPairScorer>();

        // The host's own services: uploads, evaluation runs in SQLite or PostgreSQL.
        services.AddSingleton<UploadReader>();
        services.AddEvaluationStore();
        services.AddSingleton<EvaluationRuns>();

        // Every endpoint's body is limited: uploads by their endpoints' metadata (BodySizeLimits), everything else by the
        // JSON limit. No Server header: what runs the service is nobody's business.
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServerOptions>>(static (kestrel, server) =>
        {
            kestrel.Limits.MaxRequestBodySize = server.Value.MaxJsonBodyBytes;
            kestrel.AddServerHeader = false;
        });

        // One error path: bad parameters through minimal-API validation, everything else through the exception handler.
        services.AddValidation();
        services.Configure<RouteHandlerOptions>(static o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(static o => o.CustomizeProblemDetails = ProblemDetailsCustomization.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();

        // Graceful shutdown: the drain runs before every hosted service stops, within the host's shutdown timeout.
        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(static sp => sp.GetRequiredService<GracefulShutdown>());
        services.AddOptions<HostOptions>().Configure<IOptions<ServerOptions>>(static (host, server) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(server.Value.ShutdownDrainSeconds + ServerOptions.ShutdownMarginSeconds));

        services.AddHealthChecks()
            .AddCheck<GracefulShutdown>(HealthApi.ShutdownCheck, tags: [HealthApi.ReadyTag])
            .AddCheck("process", static () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy("The process serves."), tags: [HealthApi.LiveTag])
            .AddCheck<ModelsHealthCheck>("models", tags: [HealthApi.ReadyTag]);

        services.AddSegServeSecurity();
        services.AddSegServeOpenApi();
        builder.AddSegServeTelemetry();
        return builder;
    }

    public static WebApplication UseSegServe(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSegServeTelemetry();
        app.UseBodySizeLimits(app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.MaxJsonBodyBytes);
        // After the body limits, so that a refused request's body is read within its endpoint's limit.
        GracefulShutdown.UseGracefulShutdown(app);
        // The web page (wwwroot: plain HTML, CSS and JS modules, no build step) is public like Swagger UI: it holds no
        // data, and calls the API with the browser's requests, which the API authorises as any other.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseSegServeSecurity();
        app.UseSegServeOpenApi();
        return app;
    }

    private static bool TryValidate(object value) =>
        Validator.TryValidateObject(value, new ValidationContext(value), null, validateAllProperties: true);
}
