using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace SegServe.Api.Hosting;

/// <summary>A JSON response whose body is one of several shapes (the segment endpoint: semantic or instance).</summary>
/// <param name="types">The shapes.</param>
[AttributeUsage(AttributeTargets.Method)]
public sealed class JsonOneOfAttribute(params Type[] types) : Attribute
{
    public IReadOnlyList<Type> Types { get; } = types;
}

/// <summary>
/// Completes 200 responses that ApiExplorer cannot describe: image media types get a binary schema (so Swagger UI can
/// ask for a PNG and show it), and a JSON body that is one of several shapes gets a <c>oneOf</c> of their schemas (so a
/// generated client can read either).
/// </summary>
internal sealed class ResponseContentFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses?.TryGetValue("200", out IOpenApiResponse? found) != true || found is not OpenApiResponse ok)
        {
            return;
        }

        ok.Content ??= new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal);
        foreach (object metadata in context.ApiDescription.ActionDescriptor.EndpointMetadata)
        {
            if (metadata is Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata { StatusCode: StatusCodes.Status200OK } produces)
            {
                foreach (string contentType in produces.ContentTypes)
                {
                    if (contentType.StartsWith("image/", StringComparison.Ordinal))
                    {
                        ok.Content[contentType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
                    }
                }
            }

            if (metadata is JsonOneOfAttribute oneOf)
            {
                var schema = new OpenApiSchema { OneOf = [] };
                foreach (Type type in oneOf.Types)
                {
                    schema.OneOf.Add(context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository));
                }

                ok.Content["application/json"] = new OpenApiMediaType { Schema = schema };
            }
        }

        // In the order the endpoint declares them: Swagger UI preselects the first (JSON for segment).
        string[] declared = [.. context.ApiDescription.ActionDescriptor.EndpointMetadata
            .OfType<Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata>()
            .Where(static p => p.StatusCode == StatusCodes.Status200OK)
            .SelectMany(static p => p.ContentTypes)];
        ok.Content = ok.Content
            .OrderBy(c => Array.IndexOf(declared, c.Key) is int i and >= 0 ? i : int.MaxValue)
            .ToDictionary(static c => c.Key, static c => c.Value, StringComparer.Ordinal);
    }
}
