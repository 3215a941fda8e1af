using System.Reflection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace SegServe.Api.Hosting;

/// <summary>The OpenAPI document (<c>/swagger/v1/swagger.json</c>) and Swagger UI (<c>/swagger</c>).</summary>
internal static class OpenApiExtensions
{
    public static IServiceCollection AddSegServeOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(static options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "SegServe",
                Version = "v1",
                Description = "Image segmentation inference: semantic class maps, instance masks and overlays from ONNX models (CUDA when present, CPU otherwise), and evaluation of uploaded ground truth.",
            });
            // Nullable annotations decide nullable and required (a required IFormFile is neither optional nor null),
            // and a property that refers to another schema keeps its own description (wrapped in allOf).
            options.SupportNonNullableReferenceTypes();
            options.UseAllOfToExtendReferenceSchemas();
            options.OperationFilter<ResponseContentFilter>();
            options.OperationFilter<OpenApi.QueryParameterSchemaFilter>();
            options.OperationFilter<OpenApi.RouteParameterFilter>();
            options.DocumentFilter<OpenApi.ProblemResponseFilter>();
            options.SchemaFilter<OpenApi.ProblemSchemaFilter>();
            IncludeXmlComments(options, typeof(OpenApiExtensions).Assembly);
            IncludeXmlComments(options, typeof(Contracts.ModelList).Assembly);
        });
        return services;
    }

    public static WebApplication UseSegServeOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(static options =>
        {
            options.SwaggerEndpoint("/swagger/v1/swagger.json", "SegServe v1");
            options.DocumentTitle = "SegServe";
            options.UseRequestInterceptor(OpenApi.TryItOutPrefill.RequestInterceptor);
        });
        return app;
    }

    private static void IncludeXmlComments(SwaggerGenOptions options, Assembly assembly)
    {
        string path = Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + ".xml");
        if (File.Exists(path))
        {
            options.IncludeXmlComments(path);
        }
    }
}
