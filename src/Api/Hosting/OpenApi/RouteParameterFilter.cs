using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace SegServe.Api.Hosting.OpenApi;

/// <summary>
/// Adds the route parameters that ApiExplorer cannot see: a model resolved by its own binder (<c>KnownModel</c>,
/// <c>ReadyModel</c>) reads <c>{name}</c> itself, so without this the document would have a path template whose
/// parameter Swagger UI offers no field for.
/// </summary>
internal sealed class RouteParameterFilter : IOperationFilter
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["name"] = "The model's name (its folder in the models directory), as listed by GET /v1/models.",
        ["id"] = "The run's id, as returned when it was created.",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        operation.Parameters ??= [];
        foreach (string segment in (context.ApiDescription.RelativePath ?? "").Split('/'))
        {
            if (segment.Length < 3 || segment[0] != '{' || segment[^1] != '}')
            {
                continue;
            }

            string name = segment[1..^1].Split(':')[0];
            IOpenApiParameter? existing = operation.Parameters.FirstOrDefault(p => p.Name == name && p.In == ParameterLocation.Path);
            if (existing is OpenApiParameter known)
            {
                known.Description ??= Descriptions.GetValueOrDefault(name);
                continue;
            }

            if (existing is null)
            {
                operation.Parameters.Insert(0, new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Path,
                    Required = true,
                    Description = Descriptions.GetValueOrDefault(name) ?? $"The {name} in the path.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
        }
    }
}
