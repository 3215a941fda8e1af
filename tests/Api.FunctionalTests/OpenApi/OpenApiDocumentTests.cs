using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using SegServe.Api.Binding;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Api.Problems;
using SegServe.Api.Requests;

namespace SegServe.Api.FunctionalTests.OpenApi;

/// <summary>
/// The OpenAPI document as the running service serves it, checked for every operation against the code it describes:
/// the query parameters against the binding attributes that validate them, the problem types against
/// <see cref="ProblemCatalog.All"/>, so that Swagger UI and generated clients see what the service really accepts
/// and answers.
/// </summary>
public sealed class OpenApiDocumentTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    // The [AsParameters] records whose [FromQuery] properties are each operation's query.
    private static readonly Dictionary<string, Type> QueryRecords = new(StringComparer.Ordinal)
    {
        ["Segment"] = typeof(SegmentRequest),
        ["Overlay"] = typeof(OverlayRequest),
        ["EvaluateSemantic"] = typeof(EvaluateSemanticRequest),
        ["EvaluateInstances"] = typeof(EvaluateInstancesRequest),
        ["AddEvaluationSamples"] = typeof(AddSamplesRequest),
    };

    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonObject> DocumentAsync() =>
        JsonNode.Parse(await _client.GetStringAsync("/swagger/v1/swagger.json", TestContext.Current.CancellationToken))!.AsObject();

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonObject document)
    {
        foreach ((string path, JsonNode? item) in document["paths"]!.AsObject())
        {
            foreach ((string method, JsonNode? operation) in item!.AsObject())
            {
                yield return (path, method, operation!.AsObject());
            }
        }
    }

    private static JsonObject Resolve(JsonObject document, JsonNode schema)
    {
        JsonNode target = schema["allOf"] is JsonArray { Count: 1 } allOf ? allOf[0]! : schema;
        return target["$ref"] is JsonNode reference
            ? document["components"]!["schemas"]![reference.GetValue<string>().Split('/')[^1]]!.AsObject()
            : target.AsObject();
    }

    [Fact]
    public async Task EveryOperation_HasASummarySentence()
    {
        JsonObject document = await DocumentAsync();

        foreach ((string path, string method, JsonObject operation) in Operations(document))
        {
            string summary = operation["summary"]?.GetValue<string>() ?? "";
            // Not the handler's terse XML comment ("Segments an image."): a summary says what the caller gets.
            Assert.True(summary.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 5, $"{method} {path}: summary '{summary}' is not a sentence");
            Assert.False(string.IsNullOrWhiteSpace(operation["description"]?.GetValue<string>()), $"{method} {path}: no description");
        }
    }

    [Fact]
    public async Task EveryParameter_HasATypedSchemaWithWhatItsBindingAttributesAllow()
    {
        JsonObject document = await DocumentAsync();
        int queryParameters = 0;

        foreach ((string path, string method, JsonObject operation) in Operations(document))
        {
            JsonArray parameters = operation["parameters"]?.AsArray() ?? [];
            foreach (string route in path.Split('/').Where(static s => s.StartsWith('{')))
            {
                Assert.Contains(parameters, p => p!["in"]!.GetValue<string>() == "path" && "{" + p["name"]!.GetValue<string>() + "}" == route);
            }

            foreach (JsonObject parameter in parameters.Select(static p => p!.AsObject()))
            {
                string name = parameter["name"]!.GetValue<string>();
                string where = $"{method} {path} ?{name}";
                JsonObject schema = parameter["schema"]!.AsObject();
                Assert.True(schema["type"] is not null, $"{where}: no type");
                Assert.False(string.IsNullOrWhiteSpace(parameter["description"]?.GetValue<string>()), $"{where}: no description");
                if (parameter["in"]!.GetValue<string>() == "query")
                {
                    queryParameters++;
                    Assert.True(schema["default"] is not null || schema["example"] is not null, $"{where}: neither default nor example");
                }
            }

            string id = operation["operationId"]!.GetValue<string>();
            if (QueryRecords.TryGetValue(id, out Type? record))
            {
                CheckAgainstBinding(record, parameters, id);
            }
        }

        // Every [FromQuery] member of the records is documented (above, by name); no operation has query parameters of its own.
        Assert.Equal(QueryRecords.Values.Sum(static r => r.GetProperties().Count(static p => p.GetCustomAttribute<FromQueryAttribute>() is not null)), queryParameters);
    }

    // Each [FromQuery] property of the record is a parameter whose schema says what its validation attribute allows.
    private static void CheckAgainstBinding(Type record, JsonArray parameters, string operationId)
    {
        foreach (PropertyInfo property in record.GetProperties())
        {
            if (property.GetCustomAttribute<FromQueryAttribute>()?.Name is not string name)
            {
                continue;
            }

            JsonNode? parameter = parameters.FirstOrDefault(p => p!["name"]!.GetValue<string>() == name && p["in"]!.GetValue<string>() == "query");
            Assert.True(parameter is not null, $"{operationId}: query parameter {name} is not documented");
            JsonObject schema = parameter["schema"]!.AsObject();
            string type = schema["type"]!.GetValue<string>();
            foreach (Attribute attribute in property.GetCustomAttributes())
            {
                switch (attribute)
                {
                    case OneOfAttribute oneOf:
                        Assert.Equal(oneOf.Choices, schema["enum"]!.AsArray().Select(static v => v!.GetValue<string>()));
                        break;
                    case ListOfAttribute list:
                        Assert.Equal("array", type);
                        Assert.Equal(list.Choices, schema["items"]!["enum"]!.AsArray().Select(static v => v!.GetValue<string>()));
                        break;
                    case NumberAttribute number:
                        Assert.Equal("number", type);
                        Assert.Equal(Convert.ToDouble(number.Minimum, System.Globalization.CultureInfo.InvariantCulture), schema["minimum"]!.GetValue<double>());
                        Assert.Equal(Convert.ToDouble(number.Maximum, System.Globalization.CultureInfo.InvariantCulture), schema["maximum"]!.GetValue<double>());
                        break;
                    case WholeNumberAttribute whole:
                        Assert.Equal("integer", type);
                        if (whole.Max < long.MaxValue)
                        {
                            Assert.Equal(whole.Min, schema["minimum"]!.GetValue<long>());
                            Assert.Equal(whole.Max, schema["maximum"]!.GetValue<long>());
                        }

                        break;
                    case FlagAttribute:
                        Assert.Equal("boolean", type);
                        break;
                }
            }
        }
    }

    [Fact]
    public async Task Upsample_OffersTheResamplersAsADropDownDefaultingToBilinear()
    {
        JsonObject document = await DocumentAsync();

        JsonNode upsample = document["paths"]!["/v1/models/{name}/segment"]!["post"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "upsample")!;
        Assert.Equal(["nearest", "bilinear", "bicubic"], upsample["schema"]!["enum"]!.AsArray().Select(static v => v!.GetValue<string>()));
        Assert.Equal("bilinear", upsample["schema"]!["default"]!.GetValue<string>());
    }

    [Fact]
    public async Task EverySuccess_HasMediaTypesAndSchemas_AndEveryFailureIsAProblemWithTheRealTypes()
    {
        JsonObject document = await DocumentAsync();
        string[] urns = [.. ProblemCatalog.All.Select(static k => k.Type).Distinct().Order(StringComparer.Ordinal)];

        foreach ((string path, string method, JsonObject operation) in Operations(document))
        {
            foreach ((string status, JsonNode? response) in operation["responses"]!.AsObject())
            {
                string where = $"{method} {path} {status}";
                JsonObject? content = response!["content"]?.AsObject();
                if (status == "204")
                {
                    continue;
                }

                Assert.True(content is { Count: > 0 }, $"{where}: no content");
                foreach ((string mediaType, JsonNode? media) in content)
                {
                    Assert.True(media!["schema"] is not null, $"{where} {mediaType}: no schema");
                }

                // Readiness answers 503 with its health report, not a problem: that is what probes read.
                if (status[0] is '4' or '5' && !(path == "/health/ready" && status == "503"))
                {
                    Assert.True(content.ContainsKey("application/problem+json"), $"{where}: not problem+json");
                    JsonObject problem = Resolve(document, content["application/problem+json"]!["schema"]!);
                    Assert.Equal(urns, problem["properties"]!["type"]!["enum"]!.AsArray().Select(static v => v!.GetValue<string>()).Order(StringComparer.Ordinal));
                    Assert.NotNull(problem["properties"]!["traceId"]);
                    JsonObject examples = content["application/problem+json"]!["examples"]!.AsObject();
                    Assert.NotEmpty(examples);
                    Assert.All(examples, e => Assert.Equal(
                        int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
                        document["components"]!["examples"]![e.Value!["$ref"]!.GetValue<string>().Split('/')[^1]]!["value"]!["status"]!.GetValue<int>()));
                }
            }
        }

        Assert.Equal(["application/json", "image/png"], MediaTypes(document, "/v1/models/{name}/segment", "post"));
        Assert.Equal(["image/png", "image/jpeg"], MediaTypes(document, "/v1/models/{name}/overlay", "post"));
        Assert.Equal(["image/png"], MediaTypes(document, "/v1/evaluations/{id}/report.png", "get"));
        JsonArray oneOf = document["paths"]!["/v1/models/{name}/segment"]!["post"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["oneOf"]!.AsArray();
        Assert.Equal(["#/components/schemas/SegmentationResponse", "#/components/schemas/InstanceSegmentationResponse"], oneOf.Select(static s => s!["$ref"]!.GetValue<string>()));
        Assert.Equal("binary", document["paths"]!["/v1/models/{name}/segment"]!["post"]!["responses"]!["200"]!["content"]!["image/png"]!["schema"]!["format"]!.GetValue<string>());
    }

    private static string[] MediaTypes(JsonObject document, string path, string method) =>
        [.. document["paths"]![path]![method]!["responses"]!["200"]!["content"]!.AsObject().Select(static c => c.Key)];

    [Fact]
    public async Task EverySchemaAndProperty_IsDescribed()
    {
        JsonObject document = await DocumentAsync();
        JsonObject schemas = document["components"]!["schemas"]!.AsObject();

        Assert.True(schemas.ContainsKey("SegmentationResponse"));
        Assert.True(schemas.ContainsKey("InstanceSegmentationResponse"));
        foreach ((string name, JsonNode? schema) in schemas)
        {
            Assert.False(string.IsNullOrWhiteSpace(schema!["description"]?.GetValue<string>()), $"{name}: no description");
            foreach ((string property, JsonNode? value) in schema["properties"]?.AsObject() ?? [])
            {
                Assert.False(string.IsNullOrWhiteSpace(value!["description"]?.GetValue<string>()), $"{name}.{property}: no description");
            }
        }

        // The per-class and COCO scores of a run are documented field by field, not as a bare reference.
        Assert.Contains("scores", schemas["EvaluationRunResponse"]!["properties"]!.AsObject().Select(static p => p.Key));
        Assert.NotNull(schemas["ClassScoresResponse"]!["properties"]!["iou"]!["description"]);
    }

    [Fact]
    public async Task TheImageField_IsRequiredAndNotNullable()
    {
        JsonObject document = await DocumentAsync();

        JsonObject form = document["components"]!["schemas"]!["ImageUploadForm"]!.AsObject();
        Assert.Contains("image", form["required"]!.AsArray().Select(static r => r!.GetValue<string>()));
        Assert.Null(form["properties"]!["image"]!["nullable"]);
        Assert.Equal("binary", form["properties"]!["image"]!["format"]!.GetValue<string>());
        Assert.Equal(
            "#/components/schemas/ImageUploadForm",
            document["paths"]!["/v1/models/{name}/segment"]!["post"]!["requestBody"]!["content"]!["multipart/form-data"]!["schema"]!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public async Task SwaggerUi_LeavesOutWhatItPrefilled_WithAnInterceptorItCanParse()
    {
        string script = await _client.GetStringAsync("/swagger/index.js", TestContext.Current.CancellationToken);

        string line = script.Split('\n').Single(static l => l.Contains("JSON.parse", StringComparison.Ordinal) && l.Contains("RequestInterceptorFunction", StringComparison.Ordinal));
        Assert.Contains("pre-filled parameters left as they are", line, StringComparison.Ordinal);
        // The function travels as JSON inside a single-quoted script string, where a JSON escape is undone before
        // JSON.parse reads it (\n becomes a raw newline, \" a bare quote): with one, Swagger UI would not start at all.
        Assert.DoesNotContain("\\n", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\\\"", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\\\\", line, StringComparison.Ordinal);
    }
}
