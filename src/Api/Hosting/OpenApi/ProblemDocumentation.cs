using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using SegServe.Api.Problems;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace SegServe.Api.Hosting.OpenApi;

/// <summary>
/// The problem+json schema as the service writes it (<see cref="ProblemWriter"/>): <c>type</c> is one of the stable
/// URNs of <see cref="ProblemCatalog.All"/> (listed as an enum, so clients can switch on it), and every problem carries
/// <c>traceId</c>, the W3C trace id under which the request's logs and spans are found.
/// </summary>
internal sealed class ProblemSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type != typeof(ProblemDetails) || schema is not OpenApiSchema problem || problem.Properties is null)
        {
            return;
        }

        problem.Description = "An RFC 9457 problem: every error of this service, with a stable `type` URN to switch on, a short `title`, the `detail` of this request and its `traceId`.";
        Describe(problem, "type", "The condition, a stable URN (urn:segserve:problem:…); the same for every endpoint.",
            [.. ProblemCatalog.All.Select(static k => k.Type).Distinct()]);
        Describe(problem, "title", "Short, stable summary of the condition (the same for every occurrence of the type).", null);
        Describe(problem, "status", "The HTTP status code.", null);
        Describe(problem, "detail", "What exactly was wrong with this request, and what to send instead.", null);
        Describe(problem, "instance", "The request path.", null);
        problem.Properties["traceId"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "The W3C trace id (traceparent form) of the request: logs and spans of the request carry it.",
            Example = JsonValue.Create("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        };
        problem.Properties["parameter"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "With invalid-parameter: the query parameter (or form field) at fault.",
        };
        problem.Properties["value"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "With invalid-parameter: the value sent, shortened when long.",
        };
    }

    private static void Describe(OpenApiSchema problem, string name, string description, string[]? values)
    {
        if (problem.Properties!.TryGetValue(name, out IOpenApiSchema? found) && found is OpenApiSchema property)
        {
            property.Description = description;
            if (values is not null)
            {
                property.Enum = [.. values.Select(static v => (JsonNode)JsonValue.Create(v))];
                property.Example = JsonValue.Create(values[0]);
            }
        }
    }
}

/// <summary>
/// Each problem response lists the types it may carry (those of its status in <see cref="ProblemCatalog.All"/>) in its
/// description, with one real example body per type instead of a generated placeholder. The examples are components,
/// referenced from each response, so that the document stays small.
/// </summary>
internal sealed class ProblemResponseFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        ArgumentNullException.ThrowIfNull(swaggerDoc);
        swaggerDoc.Components ??= new OpenApiComponents();
        swaggerDoc.Components.Examples ??= new Dictionary<string, IOpenApiExample>(StringComparer.Ordinal);
        foreach (ProblemKind kind in ProblemCatalog.All)
        {
            swaggerDoc.Components.Examples[ExampleId(kind)] = new OpenApiExample
            {
                Summary = $"{kind.Title} ({kind.Type})",
                Value = new JsonObject
                {
                    ["type"] = kind.Type,
                    ["title"] = kind.Title,
                    ["status"] = kind.Status,
                    ["detail"] = $"What was wrong with this request ({kind.Title.ToLowerInvariant()}), and what to send instead.",
                    ["traceId"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                },
            };
        }

        foreach (OpenApiOperation operation in swaggerDoc.Paths.Values.SelectMany(static p => (IEnumerable<OpenApiOperation>?)p.Operations?.Values ?? []))
        {
            foreach ((string code, IOpenApiResponse value) in operation.Responses ?? [])
            {
                if (value is OpenApiResponse response && response.Content?.TryGetValue("application/problem+json", out OpenApiMediaType? media) == true
                    && int.TryParse(code, out int status) && ProblemCatalog.All.Where(k => k.Status == status).ToArray() is { Length: > 0 } kinds)
                {
                    response.Description = $"{response.Description}. Problem types: {string.Join(", ", kinds.Select(static k => $"`{k.Type}` ({k.Title})"))}.";
                    media.Examples = kinds.ToDictionary(ExampleId, k => (IOpenApiExample)new OpenApiExampleReference(ExampleId(k), swaggerDoc), StringComparer.Ordinal);
                }
            }
        }
    }

    private static string ExampleId(ProblemKind kind) => "problem-" + kind.Type[(kind.Type.LastIndexOf(':') + 1)..];
}
