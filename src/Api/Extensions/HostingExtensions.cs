using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using SegServe.Api.Evaluations;
using SegServe.Inference;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Scheduling;

namespace SegServe.Api.Extensions;

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
            .Validate(static o => TryValidate(o.Images), "Inference:Images has an invalid limit (MaxBytes 1–1073741824, MaxPixels ≥ 1).")
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<InferenceMetrics>();
        services.AddSingleton(sp => new ModelRepository(
            sp.GetRequiredService<IOptions<InferenceOptions>>(),
            sp.GetRequiredService<ILogger<ModelRepository>>(),
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<InferenceMetrics>()));
        services.AddSingleton(sp => new ImageDecoder(sp.GetRequiredService<IOptions<InferenceOptions>>().Value.Images));
        services.AddSingleton<SegmentationPipeline>();

        services.AddOptions<EvaluationOptions>()
            .BindConfiguration(EvaluationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<EvaluationStore>();
        services.AddHostedService<ModelLoader>();

        // The upload limit is enforced while streaming the multipart body; Kestrel's cap only needs to leave it room.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<InferenceOptions>>(static (kestrel, inference) =>
            kestrel.Limits.MaxRequestBodySize = inference.Value.Images.MaxBytes + (1024 * 1024));

        services.AddProblemDetails(static options => options.CustomizeProblemDetails = static context =>
        {
            // Problems raised by routing (no endpoint, wrong method, wrong Content-Type) come without a detail:
            // say what was wrong, as every other problem does.
            if (context.ProblemDetails.Detail is not null)
            {
                return;
            }

            HttpRequest request = context.HttpContext.Request;
            if (context.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
            {
                context.ProblemDetails.Detail = $"The request to {request.Method} {request.Path} could not be read: {bad.Message} Send valid JSON with the fields /swagger lists.";
                return;
            }

            context.ProblemDetails.Detail = context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => $"There is no endpoint at {request.Method} {request.Path}; see /swagger.",
                StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not accept {request.Method}; see /swagger.",
                StatusCodes.Status415UnsupportedMediaType =>
                    $"Send the image as multipart/form-data with a file field named 'image' (got Content-Type '{request.ContentType ?? "none"}').",
                StatusCodes.Status400BadRequest =>
                    $"The request to {request.Method} {request.Path} could not be read: a JSON body must be valid JSON with the fields /swagger lists (sent as Content-Type application/json, got '{request.ContentType ?? "none"}').",
                _ => context.ProblemDetails.Title,
            };
        });
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(static options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "SegServe",
                Version = "v1",
                Description = "Image segmentation inference: semantic class maps and overlays from ONNX models (CUDA when present, CPU otherwise).",
            });
            IncludeXmlComments(options, typeof(HostingExtensions).Assembly);
            IncludeXmlComments(options, typeof(Contracts.ModelList).Assembly);
        });

        return builder;
    }

    public static WebApplication UseSegServe(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // A request the framework could not bind (e.g. a body that is not valid JSON) is the client's error, in every
        // environment: its status (400), not 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = static exception => exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseSwagger();
        app.UseSwaggerUI(static options =>
        {
            options.SwaggerEndpoint("/swagger/v1/swagger.json", "SegServe v1");
            options.DocumentTitle = "SegServe";
        });
        app.MapGet("/", static () => Results.Redirect("/swagger")).ExcludeFromDescription();
        return app;
    }

    private static void IncludeXmlComments(Swashbuckle.AspNetCore.SwaggerGen.SwaggerGenOptions options, Assembly assembly)
    {
        string path = Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + ".xml");
        if (File.Exists(path))
        {
            options.IncludeXmlComments(path);
        }
    }

    private static bool TryValidate(object value) =>
        Validator.TryValidateObject(value, new ValidationContext(value), null, validateAllProperties: true);
}
