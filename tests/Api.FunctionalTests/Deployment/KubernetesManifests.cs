using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Telemetry;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// The manifests of <c>deploy/k8s</c> as a cluster would receive them: rendered by <c>kubectl kustomize</c> (kustomize
/// v5, as in kubectl 1.27 and later) and validated by <c>deploy/k8s/validate</c> (the pinned kubernetes-models' schemas,
/// strict about unknown fields). Skips the calling test, saying how to install what is missing, where kubectl, Node.js
/// or the validator's node_modules are absent.
/// </summary>
public static partial class KubernetesManifests
{
    /// <summary>The overlays, alone and with the components (comma-separated names under <c>components/</c>).</summary>
    public static readonly TheoryData<string, string> Overlays = new()
    {
        { "cpu", "" }, { "gpu", "" }, { "cpu", "ingress" }, { "gpu", "ingress" }, { "cpu", "models-volume" }, { "gpu", "ingress,models-volume" },
    };

    public static string Root => Repository.PathOf("deploy/k8s");

    private static string ValidatorDirectory => Path.Combine(Root, "validate");

    private static readonly Lazy<string?> s_missingTool = new(FindMissingTool);

    /// <summary>Skips the test unless kubectl (with kustomize v5+), node and the validator's node_modules are all there.</summary>
    public static void RequireTools()
    {
        if (s_missingTool.Value is string missing)
        {
            Assert.Skip(missing);
        }
    }

    /// <summary>
    /// <c>kubectl kustomize</c> of an overlay (with components, through a kustomization of its own as a user would
    /// write it), validated: the objects, or a failure with the validator's messages.
    /// </summary>
    public static async Task<RenderedManifests> RenderAsync(string overlay, params string[] components)
    {
        RequireTools();
        DirectoryInfo work = Directory.CreateTempSubdirectory("segserve-k8s-");
        try
        {
            string target = Path.Combine(Root, overlay);
            if (components.Length > 0)
            {
                // Kustomize refuses absolute paths: the user's kustomization names the overlay and component relatively.
                string relative = Path.GetRelativePath(work.FullName, Root).Replace('\\', '/');
                await File.WriteAllTextAsync(Path.Combine(work.FullName, "kustomization.yaml"), $"""
                    apiVersion: kustomize.config.k8s.io/v1beta1
                    kind: Kustomization
                    resources:
                      - {relative}/{overlay}
                    components:
                    {string.Join('\n', components.Select(c => $"  - {relative}/components/{c}"))}
                    """, TestContext.Current.CancellationToken);
                target = work.FullName;
            }

            ToolResult kustomize = await RunAsync("kubectl", ["kustomize", target]);
            Assert.True(kustomize.ExitCode == 0, $"kubectl kustomize {overlay} failed ({kustomize.ExitCode}):\n{kustomize.Error}");
            string yaml = Path.Combine(work.FullName, "rendered.yaml");
            await File.WriteAllTextAsync(yaml, kustomize.Output, TestContext.Current.CancellationToken);

            string json = Path.Combine(work.FullName, "rendered.json");
            ToolResult validation = await ValidateAsync(yaml, json);
            Assert.True(validation.ExitCode == 0, $"The validator rejected {string.Join('+', [overlay, .. components])} ({validation.ExitCode}):\n{validation.Error}\n{validation.Output}");
            JsonArray objects = JsonNode.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken))!.AsArray();
            return new RenderedManifests(kustomize.Output, [.. objects.Select(static o => o!.AsObject())], validation.Output);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Runs the validator on a YAML file; with <paramref name="json"/>, also writes the objects there.</summary>
    public static Task<ToolResult> ValidateAsync(string yaml, string? json = null) =>
        RunAsync("node", json is null ? [Path.Combine(ValidatorDirectory, "validate.js"), yaml] : [Path.Combine(ValidatorDirectory, "validate.js"), "--json", json, yaml]);

    /// <summary>A YAML document (not a Kubernetes object, e.g. Helm values) as JSON.</summary>
    public static async Task<JsonObject> ReadYamlAsync(string path)
    {
        RequireTools();
        ToolResult result = await RunAsync("node", [Path.Combine(ValidatorDirectory, "yaml-to-json.js"), path]);
        Assert.True(result.ExitCode == 0, $"{path}: {result.Error}");
        return JsonNode.Parse(result.Output)!.AsObject();
    }

    public static async Task<ToolResult> RunAsync(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Root,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ToolResult(process.ExitCode, await output, await error);
    }

    /// <summary>nginx's size syntax (<c>proxy-body-size</c>, <c>client_max_body_size</c>): bytes, or k/m/g as powers of 1024.</summary>
    public static long NginxSize(string value)
    {
        Match match = NginxSizePattern().Match(value);
        Assert.True(match.Success, $"'{value}' is not an nginx size.");
        long number = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value.ToUpperInvariant() switch
        {
            "K" => number << 10,
            "M" => number << 20,
            "G" => number << 30,
            _ => number,
        };
    }

    [GeneratedRegex("^([0-9]+)([kKmMgG]?)$")]
    private static partial Regex NginxSizePattern();

    private static string? FindMissingTool()
    {
        string? kubectl = OnPath("kubectl");
        if (kubectl is null)
        {
            return "kubectl is not installed (Debian/Ubuntu: apt-get install kubectl, or the kubernetes-client package if it is 1.27 or later; .ci/setup.d/30-kubernetes.sh tries): the Kubernetes manifests are not rendered here.";
        }

        ToolResult version = RunAsync(kubectl, ["version", "--client"]).GetAwaiter().GetResult();
        Match kustomize = Regex.Match(version.Output, @"Kustomize Version: v(\d+)\.");
        if (!kustomize.Success || int.Parse(kustomize.Groups[1].Value, CultureInfo.InvariantCulture) < 5)
        {
            return $"{kubectl} is too old: the manifests need kustomize v5 (kubectl 1.27 or later), this one reports '{version.Output.Trim()}'.";
        }

        if (OnPath("node") is null)
        {
            return "Node.js is not installed (apt-get install nodejs npm): the manifests' validator (deploy/k8s/validate) cannot run.";
        }

        return Directory.Exists(Path.Combine(ValidatorDirectory, "node_modules", "kubernetes-models"))
            ? null
            : "deploy/k8s/validate/node_modules is absent: run `npm ci` in deploy/k8s/validate (.ci/setup.d/30-kubernetes.sh does).";
    }

    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
}

public sealed record ToolResult(int ExitCode, string Output, string Error);

/// <summary>The validated objects of one rendering, with the helpers the checks need.</summary>
public sealed record RenderedManifests(string Yaml, IReadOnlyList<JsonObject> Objects, string ValidatorOutput)
{
    public JsonObject OfKind(string kind) => Assert.Single(Objects, o => (string?)o["kind"] == kind);

    public JsonObject Deployment => OfKind("Deployment");

    public JsonObject PodSpec => Deployment["spec"]!["template"]!["spec"]!.AsObject();

    public JsonObject Container => Assert.Single(PodSpec["containers"]!.AsArray())!.AsObject();

    /// <summary>
    /// The container's settings as the process sees them: the ConfigMaps it takes whole (envFrom), then its literal
    /// <c>env</c> entries, which win. Values from Secrets are not here (the cluster's operator provides them).
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var settings = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonNode? source in Container["envFrom"]?.AsArray() ?? [])
            {
                if (source?["configMapRef"]?["name"]?.GetValue<string>() is string name)
                {
                    JsonObject map = Assert.Single(Objects, o => (string?)o["kind"] == "ConfigMap" && (string?)o["metadata"]!["name"] == name);
                    foreach ((string key, JsonNode? value) in map["data"]!.AsObject())
                    {
                        settings[key] = value!.GetValue<string>();
                    }
                }
            }

            foreach (JsonNode? entry in Container["env"]?.AsArray() ?? [])
            {
                if (entry?["value"]?.GetValue<string>() is string value)
                {
                    settings[entry["name"]!.GetValue<string>()] = value;
                }
            }

            return settings;
        }
    }

    /// <summary>The container port a probe or Service names (by name or number).</summary>
    public int ContainerPort(JsonNode port) => port.GetValueKind() == System.Text.Json.JsonValueKind.Number
        ? port.GetValue<int>()
        : Assert.Single(Container["ports"]!.AsArray(), p => (string?)p!["name"] == port.GetValue<string>())!["containerPort"]!.GetValue<int>();
}

/// <summary>
/// The real service on Kestrel, configured with a rendered container's settings (its ConfigMap and literal env, as
/// <c>Section__Key</c> variables are read), an API key as the <c>segserve-api-keys</c> Secret would give it, and the
/// metrics port on a free loopback port. Replaced, because they describe the container rather than the service:
/// the listening address (a loopback port here), the image's paths (/app/models holds this checkout's models/, which
/// the host already serves; /data is a temporary folder) and, for the GPU overlay, CUDA (this machine has no GPU).
/// </summary>
public sealed class KubernetesConfiguredFactory(IReadOnlyDictionary<string, string> environment) : KestrelFactory
{
    public const string ApiKey = "kubernetes-manifest-test-key-0123456789";

    /// <summary>Settings the test host replaces, and why they cannot apply here.</summary>
    public static readonly IReadOnlySet<string> Replaced = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Urls", "Inference__ModelsDirectory", "Evaluation__DatabasePath", "Telemetry__MetricsPort",
        "Inference__ExecutionProvider", "Inference__RequireGpu", "HOME", "TMPDIR",
    };

    public override int? MetricsPort { get; } = FreePort();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        foreach ((string key, string value) in environment)
        {
            if (!Replaced.Contains(key))
            {
                builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
            }
        }

        builder.UseSetting("Authentication:ApiKeys:0:Name", "kubernetes-test");
        builder.UseSetting("Authentication:ApiKeys:0:Sha256", Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ApiKey))));
        builder.UseSetting("Authentication:ApiKeys:0:Roles:0", "user");
    }
}
