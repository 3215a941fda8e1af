using System.Collections;
using System.Reflection;
using SegServe.Api.Evaluations;
using SegServe.Api.Health;
using SegServe.Api.Hosting;
using SegServe.Api.Security;
using SegServe.Inference;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// Every setting the service binds, in the environment-variable form a container takes (<c>Inference__Images__MaxBytes</c>),
/// is documented in <c>docs/deployment.md</c>: the names are read from the options classes themselves, so a new
/// setting without documentation fails here.
/// </summary>
public sealed class SettingsDocumentationTests
{
    public static TheoryData<string> Variables()
    {
        var names = new TheoryData<string>();
        foreach ((string section, Type type) in Sections)
        {
            foreach (string name in Leaves(section, type, depth: 0))
            {
                names.Add(name);
            }
        }

        return names;
    }

    private static readonly (string Section, Type Type)[] Sections =
    [
        (InferenceOptions.SectionName, typeof(InferenceOptions)),
        (EvaluationOptions.SectionName, typeof(EvaluationOptions)),
        (ServerOptions.SectionName, typeof(ServerOptions)),
        (HealthOptions.SectionName, typeof(HealthOptions)),
        (TelemetryOptions.SectionName, typeof(TelemetryOptions)),
        (ApiKeyOptions.SectionName, typeof(ApiKeyOptions)),
        (RateLimitOptions.SectionName, typeof(RateLimitOptions)),
        (CorsSettings.SectionName, typeof(CorsSettings)),
    ];

    [Theory]
    [MemberData(nameof(Variables))]
    public void EverySetting_IsDocumented_AsItsEnvironmentVariable(string variable)
    {
        string docs = File.ReadAllText(Repository.PathOf("docs/deployment.md"));
        Assert.True(docs.Contains($"`{variable}`", StringComparison.Ordinal), $"docs/deployment.md does not document `{variable}`.");
    }

    [Fact]
    public void TheSettingsFound_IncludeKnownOnes()
    {
        // The walk itself: if it found nothing, the theory above would pass vacuously.
        string[] found = [.. Variables().Select(static row => row.Data)];
        Assert.Contains("Inference__Images__MaxBytes", found);
        Assert.Contains("Server__ShutdownDrainSeconds", found);
        Assert.Contains("Inference__Queue__Models__{name}__MaxBatchSize", found);
        Assert.Contains("Authentication__ApiKeys__{i}__Sha256", found);
    }

    // A settable public property is a setting; a class-typed one is a section of them; a list is indexed (__{i}), a
    // dictionary keyed (__{name}).
    private static IEnumerable<string> Leaves(string prefix, Type type, int depth)
    {
        Assert.True(depth < 6, $"{prefix}: the options nest too deep (a cycle?)");
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || (property.SetMethod is not { IsPublic: true } && !IsCollection(property.PropertyType)))
            {
                continue;
            }

            string name = $"{prefix}__{property.Name}";
            Type t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            foreach (string leaf in Expand(name, t, depth))
            {
                yield return leaf;
            }
        }
    }

    private static IEnumerable<string> Expand(string name, Type t, int depth)
    {
        if (IsScalar(t))
        {
            return [name];
        }

        if (t.IsGenericType && t.GetGenericTypeDefinition() is Type g && (g == typeof(Dictionary<,>) || g == typeof(IDictionary<,>) || g == typeof(IReadOnlyDictionary<,>)))
        {
            return Expand($"{name}__{{name}}", t.GetGenericArguments()[1], depth + 1);
        }

        if (t.IsArray || (t.IsGenericType && typeof(IEnumerable).IsAssignableFrom(t)))
        {
            Type element = t.IsArray ? t.GetElementType()! : t.GetGenericArguments()[0];
            return IsScalar(element) ? [$"{name}__{{i}}"] : Expand($"{name}__{{i}}", element, depth + 1);
        }

        return Leaves(name, t, depth + 1);
    }

    private static bool IsScalar(Type t) =>
        t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(Uri);

    private static bool IsCollection(Type t) => t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t);
}
