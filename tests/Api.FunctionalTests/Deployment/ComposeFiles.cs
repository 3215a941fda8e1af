using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SegServe.Tests.Shared;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// The compose stack's files as the tests read them: YAML through YamlDotNet (merge keys resolved, as Compose does),
/// JSON through System.Text.Json, with small accessors that fail the test, naming the path, where a key is missing.
/// </summary>
internal static class ComposeFiles
{
    public const string ComposeFile = "docker-compose.yml";
    public const string PrometheusConfig = "deploy/prometheus/prometheus.yml";
    public const string AlertRules = "deploy/prometheus/alerts.yml";
    public const string AlertRuleTests = "deploy/prometheus/alerts.test.yml";
    public const string CollectorConfig = "deploy/otel-collector/config.yaml";
    public const string DataSources = "deploy/grafana/provisioning/datasources/datasources.yaml";
    public const string DashboardProviders = "deploy/grafana/provisioning/dashboards/dashboards.yaml";
    public const string Dashboard = "deploy/grafana/dashboards/segserve.json";

    /// <summary>A YAML file of the repository as nested dictionaries (string keys), lists and strings.</summary>
    public static Dictionary<object, object?> Yaml(string relative)
    {
        using var reader = new StringReader(File.ReadAllText(Repository.PathOf(relative)));
        object? document = new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(reader)));
        return Map(document, relative);
    }

    public static string ToYaml(object document) => new SerializerBuilder().Build().Serialize(document);

    public static JsonDocument Json(string relative) => JsonDocument.Parse(File.ReadAllText(Repository.PathOf(relative)));

    public static Dictionary<object, object?> Map(object? value, string where) =>
        value as Dictionary<object, object?> ?? throw new Xunit.Sdk.XunitException($"{where}: a mapping was expected, found {Describe(value)}.");

    public static List<object?> List(object? value, string where) =>
        value as List<object?> ?? throw new Xunit.Sdk.XunitException($"{where}: a list was expected, found {Describe(value)}.");

    public static string Text(object? value, string where) =>
        value as string ?? throw new Xunit.Sdk.XunitException($"{where}: a scalar was expected, found {Describe(value)}.");

    /// <summary>The value at <paramref name="keys"/> below <paramref name="map"/>; fails naming the first key missing.</summary>
    public static object? At(Dictionary<object, object?> map, params string[] keys)
    {
        object? current = map;
        string path = "";
        foreach (string key in keys)
        {
            path = path.Length == 0 ? key : $"{path}.{key}";
            Dictionary<object, object?> level = Map(current, path);
            if (!level.TryGetValue(key, out current))
            {
                throw new Xunit.Sdk.XunitException($"{path} is missing.");
            }
        }

        return current;
    }

    public static Dictionary<object, object?> MapAt(Dictionary<object, object?> map, params string[] keys) => Map(At(map, keys), string.Join('.', keys));

    public static object? Optional(Dictionary<object, object?> map, string key) => map.TryGetValue(key, out object? value) ? value : null;

    /// <summary>A compose service's environment, in either of Compose's forms (a mapping, or a list of NAME=value).</summary>
    public static Dictionary<string, string> Environment(Dictionary<object, object?> service, string name)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (Optional(service, "environment"))
        {
            case null:
                break;
            case Dictionary<object, object?> map:
                foreach ((object key, object? value) in map)
                {
                    variables[(string)key] = value as string ?? "";
                }

                break;
            case List<object?> list:
                foreach (string entry in list.Select(e => Text(e, $"{name}.environment")))
                {
                    int equals = entry.IndexOf('=', StringComparison.Ordinal);
                    variables[equals < 0 ? entry : entry[..equals]] = equals < 0 ? "" : entry[(equals + 1)..];
                }

                break;
            default:
                throw new Xunit.Sdk.XunitException($"{name}.environment is neither a mapping nor a list.");
        }

        return variables;
    }

    /// <summary>A compose duration (<c>40s</c>, <c>1m30s</c>, <c>500ms</c>) in seconds.</summary>
    public static double Seconds(string duration)
    {
        double total = 0;
        foreach (System.Text.RegularExpressions.Match part in System.Text.RegularExpressions.Regex.Matches(duration, @"(\d+(?:\.\d+)?)(ms|us|h|m|s)"))
        {
            double value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "h" => value * 3600,
                "m" => value * 60,
                "s" => value,
                "ms" => value / 1000,
                _ => value / 1_000_000,
            };
        }

        return total;
    }

    /// <summary>Runs a program to completion in the repository root; its exit code and its output and error together.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{program} {string.Join(' ', arguments)} did not finish within 2 minutes.");
        }

        return (process.ExitCode, await output + await error);
    }

    /// <summary>The full path of a program on PATH, or null.</summary>
    public static string? OnPath(string program) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    private static string Describe(object? value) => value switch
    {
        null => "nothing",
        string text => $"\"{text}\"",
        _ => value.GetType().Name,
    };
}
