using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.OpenApi;
using SegServe.Api.Binding;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace SegServe.Api.Hosting.OpenApi;

/// <summary>
/// Query values are bound as text (so that every bad value gets the same 400 problem), which leaves ApiExplorer
/// seeing only <c>string</c>. This filter reads the binding attributes that validate them and writes what they mean
/// into the parameter's schema — number or integer with its range, the allowed words as an enum (a drop-down in
/// Swagger UI), booleans, comma-separated lists as arrays — with the default (<see cref="DefaultValueAttribute"/>) or
/// an example (<see cref="ExampleAttribute"/>, else the first allowed value or the minimum). The values come from the
/// attributes that validation uses, so the document cannot drift from what the service accepts.
/// </summary>
internal sealed class QueryParameterSchemaFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Parameters is null)
        {
            return;
        }

        foreach (ApiParameterDescription description in context.ApiDescription.ParameterDescriptions)
        {
            if (description.Source?.Id != "Query"
                || operation.Parameters.FirstOrDefault(p => p.Name == description.Name && p.In == ParameterLocation.Query) is not OpenApiParameter parameter)
            {
                continue;
            }

            object[] attributes = [.. description.CustomAttributes()];
            parameter.Schema = Describe(attributes);
            if (parameter.Schema.Type == JsonSchemaType.Array)
            {
                // Comma-separated, as QueryValues.Items reads it: Swagger UI then offers a multiple choice.
                parameter.Style = ParameterStyle.Form;
                parameter.Explode = false;
            }
        }
    }

    /// <summary>The schema a query value's attributes define.</summary>
    public static OpenApiSchema Describe(IReadOnlyCollection<object> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var schema = new OpenApiSchema { Type = JsonSchemaType.String };
        foreach (object attribute in attributes)
        {
            switch (attribute)
            {
                case NumberAttribute number:
                    schema.Type = JsonSchemaType.Number;
                    schema.Format = "double";
                    schema.Minimum = Text(Convert.ToDouble(number.Minimum, CultureInfo.InvariantCulture));
                    schema.Maximum = Text(Convert.ToDouble(number.Maximum, CultureInfo.InvariantCulture));
                    schema.ExclusiveMinimum = number.MinimumIsExclusive ? schema.Minimum : null;
                    break;
                case WholeNumberAttribute whole:
                    schema.Type = JsonSchemaType.Integer;
                    schema.Format = whole.Min >= int.MinValue && whole.Max <= int.MaxValue ? "int32" : "int64";
                    schema.Minimum = whole.Min == long.MinValue ? null : Text(whole.Min);
                    schema.Maximum = whole.Max == long.MaxValue ? null : Text(whole.Max);
                    break;
                case FlagAttribute:
                    schema.Type = JsonSchemaType.Boolean;
                    break;
                case OneOfAttribute oneOf:
                    schema.Enum = [.. oneOf.Choices.Select(static c => (JsonNode)JsonValue.Create(c))];
                    break;
                case ListOfAttribute list:
                    schema.Type = JsonSchemaType.Array;
                    schema.Items = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. list.Choices.Select(static c => (JsonNode)JsonValue.Create(c))] };
                    break;
                case ColorAttribute:
                    schema.Pattern = "^(#?[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}|[a-zA-Z]+)$";
                    break;
            }
        }

        if (attributes.OfType<DefaultValueAttribute>().FirstOrDefault() is { Value: object value })
        {
            schema.Default = Value(schema, value);
        }
        else if (attributes.OfType<ExampleAttribute>().FirstOrDefault() is { } example)
        {
            schema.Example = Value(schema, example.Value);
        }
        else if (schema.Enum is { Count: > 0 })
        {
            schema.Example = schema.Enum[0].DeepClone();
        }
        else if (schema.Minimum is string minimum && schema.ExclusiveMinimum is null)
        {
            schema.Example = Value(schema, minimum);
        }

        return schema;
    }

    // A default or example typed as the schema says (the attributes hold text, as the query does).
    private static JsonNode? Value(OpenApiSchema schema, object value)
    {
        string text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return schema.Type switch
        {
            JsonSchemaType.Number => JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture)),
            JsonSchemaType.Integer => JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture)),
            JsonSchemaType.Boolean => JsonValue.Create(QueryValues.Flag(text)),
            JsonSchemaType.Array => new JsonArray([.. QueryValues.Items(text).Select(static i => (JsonNode)JsonValue.Create(i))]),
            _ => JsonValue.Create(text),
        };
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
