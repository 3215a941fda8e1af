using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Api.Hosting;
using SegServe.Inference;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// <c>deploy/k8s</c>: each overlay renders to objects that the Kubernetes schemas accept, and those objects fit the
/// service they run — probes that a live host configured from the rendered ConfigMap answers, a termination grace
/// period longer than the drain, a locked-down container, autoscalers on real metrics, an ingress body limit equal to
/// the largest body the service takes.
/// </summary>
public sealed class KubernetesManifestTests(KubernetesHosts hosts) : IClassFixture<KubernetesHosts>
{
    public static TheoryData<string, string> Overlays => KubernetesManifests.Overlays;

    public static TheoryData<string> Devices => new() { "cpu", "gpu" };

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_RendersToObjectsTheKubernetesSchemasAccept(string overlay, string components)
    {
        string[] added = components.Split(',', StringSplitOptions.RemoveEmptyEntries);
        RenderedManifests rendered = await KubernetesManifests.RenderAsync(overlay, added);
        bool ingress = added.Contains("ingress");

        string[] expected = ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", .. ingress ? ["Ingress"] : Array.Empty<string>()];
        Assert.Equal(expected.Order(StringComparer.Ordinal), rendered.Objects.Select(static o => (string)o["kind"]!).Order(StringComparer.Ordinal));
        Assert.Contains($"{rendered.Objects.Count} object(s), 0 invalid", rendered.ValidatorOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validator_RejectsWrongTypes_UnknownFields_AndUnknownKinds()
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync("cpu");
        Assert.Contains("readOnlyRootFilesystem: true", rendered.Yaml, StringComparison.Ordinal);

        // The real rendering with one security field misspelt (which the API server would drop silently without strict
        // validation), plus a Deployment whose replicas is a string and a kind that does not exist.
        string broken = rendered.Yaml.Replace("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", StringComparison.Ordinal) + """
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: two
            spec:
              replicas: "two"
              selector: { matchLabels: { app: two } }
              template:
                metadata: { labels: { app: two } }
                spec: { containers: [ { name: two, image: two } ] }
            ---
            apiVersion: v1
            kind: Servce
            metadata:
              name: typo
            """;
        string file = Path.Combine(Path.GetTempPath(), $"segserve-k8s-broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, broken, TestContext.Current.CancellationToken);
        try
        {
            ToolResult result = await KubernetesManifests.ValidateAsync(file);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("unknown field \"readOnlyRootFileSystem\"", result.Error, StringComparison.Ordinal);
            Assert.Contains("/spec/replicas must be integer", result.Error, StringComparison.Ordinal);
            Assert.Contains("unknown kind \"Servce\" in v1", result.Error, StringComparison.Ordinal);
            Assert.Contains($"{rendered.Objects.Count + 2} object(s), 3 invalid", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Probes_AndScrapeTarget_AnswerOnTheServiceConfiguredAsRendered(string overlay)
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync(overlay);
        IReadOnlyDictionary<string, string> environment = rendered.Environment;
        KubernetesConfiguredFactory service = hosts.For(overlay, environment);
        CancellationToken cancel = TestContext.Current.CancellationToken;

        // The container's ports are those the service listens on: the API where Urls says, /metrics where
        // Telemetry__MetricsPort says (and where the scrape annotation points).
        int http = rendered.ContainerPort(JsonValue.Create("http"));
        int metrics = rendered.ContainerPort(JsonValue.Create("metrics"));
        Assert.Equal(http, new Uri(environment["Urls"].Replace("+", "localhost", StringComparison.Ordinal)).Port);
        Assert.Equal(metrics.ToString(CultureInfo.InvariantCulture), environment["Telemetry__MetricsPort"]);
        JsonObject annotations = rendered.Deployment["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("true", (string?)annotations["prometheus.io/scrape"]);
        Assert.Equal(metrics.ToString(CultureInfo.InvariantCulture), (string?)annotations["prometheus.io/port"]);
        var local = new Dictionary<int, int> { [http] = service.Address.Port, [metrics] = service.MetricsPort!.Value };

        // Every probe, without a key (the kubelet has none), while the API itself requires one.
        using var client = new HttpClient();
        foreach (string probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            JsonNode get = rendered.Container[probe]?["httpGet"] ?? throw new Xunit.Sdk.XunitException($"{overlay}: the container has no {probe} with httpGet.");
            Uri url = new($"http://127.0.0.1:{local[rendered.ContainerPort(get["port"]!)]}{(string)get["path"]!}");
            using HttpResponseMessage response = await client.GetAsync(url, cancel);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{overlay} {probe} GET {get["path"]} on port {get["port"]}: {(int)response.StatusCode}");
        }

        using (HttpResponseMessage scrape = await client.GetAsync(new Uri($"http://127.0.0.1:{local[metrics]}{(string)annotations["prometheus.io/path"]!}"), cancel))
        {
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains("segserve_queue_depth", await scrape.Content.ReadAsStringAsync(cancel), StringComparison.Ordinal);
        }

        using (HttpResponseMessage anonymous = await client.GetAsync(new Uri(service.Address, "/v1/models"), cancel))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        // The Service sends its named port to the API's container port.
        JsonObject port = Assert.Single(rendered.OfKind("Service")["spec"]!["ports"]!.AsArray())!.AsObject();
        Assert.Equal(http, rendered.ContainerPort(port["targetPort"]!));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task TerminationGracePeriod_ExceedsPreStopSleepPlusDrainPlusShutdownMargin(string overlay)
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync(overlay);

        // The drain the service is given (set explicitly, so the manifest does not lean on a default that may change).
        Assert.True(rendered.Environment.TryGetValue("Server__ShutdownDrainSeconds", out string? drainText), "Server__ShutdownDrainSeconds is not set in the container's environment.");
        int drain = int.Parse(drainText, CultureInfo.InvariantCulture);
        JsonObject preStop = rendered.Container["lifecycle"]!["preStop"]!.AsObject();
        Assert.Null(preStop["exec"]);
        int sleep = preStop["sleep"]!["seconds"]!.GetValue<int>();
        int grace = rendered.PodSpec["terminationGracePeriodSeconds"]!.GetValue<int>();

        Assert.True(drain > 0 && sleep > 0, $"drain {drain} s, preStop sleep {sleep} s");
        // The host's own shutdown timeout is the drain plus a margin (Kestrel closing, queues and models stopping): the
        // kubelet must not kill the process before it.
        int margin = SegServe.Api.Hosting.ServerOptions.ShutdownMarginSeconds;
        Assert.True(grace > sleep + drain + margin, $"terminationGracePeriodSeconds {grace} must exceed the preStop sleep ({sleep} s) plus Server:ShutdownDrainSeconds ({drain} s) plus the host's shutdown margin ({margin} s).");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Pod_RunsLockedDown_WithResources_AndSelectorsThatMatchIt(string overlay)
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync(overlay);
        JsonObject pod = rendered.PodSpec;
        JsonObject container = rendered.Container;

        JsonObject podSecurity = pod["securityContext"]!.AsObject();
        Assert.True((bool)podSecurity["runAsNonRoot"]!);
        Assert.Equal(1654, (int)podSecurity["runAsUser"]!);
        Assert.Equal("RuntimeDefault", (string?)podSecurity["seccompProfile"]?["type"]);
        Assert.False((bool)pod["automountServiceAccountToken"]!);
        JsonObject security = container["securityContext"]!.AsObject();
        Assert.False((bool)security["allowPrivilegeEscalation"]!);
        Assert.True((bool)security["readOnlyRootFilesystem"]!);
        Assert.NotEqual(true, (bool?)security["privileged"]);
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(static c => (string)c!));
        Assert.Null(security["capabilities"]!["add"]);

        // With a read-only root, every path the service writes is a volume: the database's folder and /tmp.
        string[] mounts = [.. container["volumeMounts"]!.AsArray().Select(static m => (string)m!["mountPath"]!)];
        Assert.Contains(Path.GetDirectoryName(rendered.Environment["Evaluation__DatabasePath"])!, mounts);
        Assert.Contains("/tmp", mounts);

        JsonObject resources = container["resources"]!.AsObject();
        foreach (string bound in new[] { "requests", "limits" })
        {
            Assert.NotNull(resources[bound]?["cpu"]);
            Assert.NotNull(resources[bound]?["memory"]);
        }

        // The execution provider settings are values the service accepts.
        IReadOnlyDictionary<string, string> environment = rendered.Environment;
        ExecutionProviderPreference provider = Enum.Parse<ExecutionProviderPreference>(environment["Inference__ExecutionProvider"]);
        if (overlay == "gpu")
        {
            Assert.Equal("1", resources["limits"]!["nvidia.com/gpu"]!.ToString());
            Assert.Equal(ExecutionProviderPreference.Cuda, provider);
            Assert.True(bool.Parse(environment["Inference__RequireGpu"]));
            Assert.Contains(pod["tolerations"]!.AsArray(), static t => (string?)t!["key"] == "nvidia.com/gpu");
        }
        else
        {
            Assert.DoesNotContain("nvidia.com/gpu", rendered.Yaml, StringComparison.Ordinal);
            Assert.Equal(ExecutionProviderPreference.Cpu, provider);
        }

        // The Deployment, the Service and the PodDisruptionBudget all select exactly these pods.
        JsonObject labels = rendered.Deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        AssertSelects(labels, rendered.Deployment["spec"]!["selector"]!["matchLabels"]!.AsObject(), "Deployment");
        AssertSelects(labels, rendered.OfKind("Service")["spec"]!["selector"]!.AsObject(), "Service");
        AssertSelects(labels, rendered.OfKind("PodDisruptionBudget")["spec"]!["selector"]!["matchLabels"]!.AsObject(), "PodDisruptionBudget");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Autoscaler_OwnsTheReplicaCount_OnCpu_OrOnTheAdapterQueueWaitMetric(string overlay)
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync(overlay);
        JsonObject hpa = rendered.OfKind("HorizontalPodAutoscaler")["spec"]!.AsObject();

        Assert.Equal("apps/v1", (string?)hpa["scaleTargetRef"]!["apiVersion"]);
        Assert.Equal("Deployment", (string?)hpa["scaleTargetRef"]!["kind"]);
        Assert.Equal((string?)rendered.Deployment["metadata"]!["name"], (string?)hpa["scaleTargetRef"]!["name"]);
        Assert.Null(rendered.Deployment["spec"]!["replicas"]);
        Assert.InRange((int)hpa["minReplicas"]!, 2, (int)hpa["maxReplicas"]!);

        JsonObject metric = Assert.Single(hpa["metrics"]!.AsArray())!.AsObject();
        if (overlay == "cpu")
        {
            Assert.Equal("Resource", (string?)metric["type"]);
            Assert.Equal("cpu", (string?)metric["resource"]!["name"]);
            Assert.Equal("Utilization", (string?)metric["resource"]!["target"]!["type"]);
            Assert.NotNull(rendered.Container["resources"]!["requests"]!["cpu"]);
            return;
        }

        // GPU: a per-pod custom metric, which the prometheus-adapter rule beside the overlay serves.
        Assert.Equal("Pods", (string?)metric["type"]);
        string name = (string)metric["pods"]!["metric"]!["name"]!;
        JsonObject rule = await AdapterRuleAsync(name);
        string series = SeriesOf(rule);
        Assert.Matches((string)rule["name"]!["matches"]!, series);
        Assert.Equal("segserve_queue_wait_milliseconds_count", series);
    }

    [Fact]
    public async Task AdapterRule_ReadsSeries_TheServiceExportsOnItsScrapePort()
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync("gpu");
        string name = (string)rendered.OfKind("HorizontalPodAutoscaler")["spec"]!["metrics"]![0]!["pods"]!["metric"]!["name"]!;
        JsonObject rule = await AdapterRuleAsync(name);
        KubernetesConfiguredFactory service = hosts.For("gpu", rendered.Environment);
        CancellationToken cancel = TestContext.Current.CancellationToken;

        // One request through a queue, so that the queue-wait histogram has series.
        using var client = new HttpClient { BaseAddress = service.Address };
        client.DefaultRequestHeaders.Add("X-Api-Key", KubernetesConfiguredFactory.ApiKey);
        using (MultipartFormDataContent form = HttpHelpers.ImageForm(CraftedImages.BlackPng(64, 64), "black.png"))
        using (HttpResponseMessage segmented = await client.PostAsync(new Uri("/v1/models/selfie/segment", UriKind.Relative), form, cancel))
        {
            Assert.Equal(HttpStatusCode.OK, segmented.StatusCode);
        }

        string exposition = await client.GetStringAsync(new Uri($"http://127.0.0.1:{service.MetricsPort}/metrics"), cancel);
        string[] lines = exposition.Split('\n');
        string query = (string)rule["metricsQuery"]!;
        foreach (Match used in Regex.Matches(query, @"\b(segserve_[a-z0-9_]+)\{"))
        {
            string exported = used.Groups[1].Value;
            Assert.Contains(lines, l => l.StartsWith(exported + "{", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith(SeriesOf(rule) + "{", StringComparison.Ordinal));
        Assert.Contains("# TYPE segserve_queue_wait_milliseconds histogram", lines);
    }

    [Fact]
    public async Task AdapterRule_Query_EvaluatesPerPod_InARealPrometheus()
    {
        if (!File.Exists(PrometheusProcess.Binary))
        {
            Assert.Skip($"{PrometheusProcess.Binary} is not installed (apt-get install prometheus; .ci/setup.d/10-prometheus.sh does): the adapter rule's query is not evaluated here.");
        }

        RenderedManifests rendered = await KubernetesManifests.RenderAsync("gpu");
        string name = (string)rendered.OfKind("HorizontalPodAutoscaler")["spec"]!["metrics"]![0]!["pods"]!["metric"]!["name"]!;
        JsonObject rule = await AdapterRuleAsync(name);
        KubernetesConfiguredFactory service = hosts.For("gpu", rendered.Environment);
        CancellationToken cancel = TestContext.Current.CancellationToken;

        // Prometheus scrapes the metrics port with the namespace and pod labels the kubernetes-pods job would add; the
        // query is the rule's, templated as prometheus-adapter does for the pods of one namespace, grouped by pod.
        DirectoryInfo data = Directory.CreateTempSubdirectory("segserve-adapter-");
        int port = Telemetry.KestrelFactory.FreePort();
        string config = Path.Combine(data.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: kubernetes-pods
                metrics_path: /metrics
                static_configs:
                  - targets: ['127.0.0.1:{service.MetricsPort}']
                    labels: {"{"} namespace: segserve-test, pod: segserve-0 {"}"}
            """, cancel);
        using System.Diagnostics.Process prometheus = PrometheusProcess.Start(config, Path.Combine(data.FullName, "tsdb"), port);
        try
        {
            string query = ((string)rule["metricsQuery"]!)
                .Replace("<<.LabelMatchers>>", "namespace=\"segserve-test\",pod=~\"segserve-0\"", StringComparison.Ordinal)
                .Replace("<<.GroupBy>>", "pod", StringComparison.Ordinal);
            using var client = new HttpClient { BaseAddress = service.Address };
            client.DefaultRequestHeaders.Add("X-Api-Key", KubernetesConfiguredFactory.ApiKey);
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

            // Requests a second apart until Prometheus has seen the count rise (two scrapes either side of a request).
            string body = "";
            for (int i = 0; i < 60 && !await HasRisenAsync(api, cancel); i++)
            {
                Assert.False(prometheus.HasExited, "Prometheus exited.");
                using MultipartFormDataContent form = HttpHelpers.ImageForm(CraftedImages.BlackPng(64, 64), "black.png");
                using HttpResponseMessage segmented = await client.PostAsync(new Uri("/v1/models/selfie/segment", UriKind.Relative), form, cancel);
                Assert.Equal(HttpStatusCode.OK, segmented.StatusCode);
                await Task.Delay(1000, cancel);
            }

            body = await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}", cancel);
            JsonObject answer = JsonNode.Parse(body)!.AsObject();
            Assert.True((string?)answer["status"] == "success", body);
            JsonNode sample = Assert.Single(answer["data"]!["result"]!.AsArray())!;
            Assert.Equal("segserve-0", (string?)sample["metric"]!["pod"]);
            double mean = double.Parse((string)sample["value"]![1]!, CultureInfo.InvariantCulture);
            Assert.True(double.IsFinite(mean) && mean >= 0, $"{name} = {mean} ms: {body}");
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill(entireProcessTree: true);
                await prometheus.WaitForExitAsync(CancellationToken.None);
            }

            data.Delete(recursive: true);
        }

        static async Task<bool> HasRisenAsync(HttpClient api, CancellationToken cancel)
        {
            try
            {
                string rate = await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString("sum(increase(segserve_queue_wait_milliseconds_count{pod=\"segserve-0\"}[2m])) > 0")}", cancel);
                return JsonNode.Parse(rate)?["data"]?["result"]?.AsArray().Count == 1;
            }
            catch (HttpRequestException)
            {
                return false; // Prometheus is still starting.
            }
        }
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public async Task IngressBodyLimit_IsTheLargestRequestBodyTheServiceAccepts(string overlay)
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync(overlay, "ingress");
        JsonObject ingress = rendered.OfKind("Ingress");
        long annotated = KubernetesManifests.NginxSize((string)ingress["metadata"]!["annotations"]!["nginx.ingress.kubernetes.io/proxy-body-size"]!);

        // The service's own limits, as routing applies them with the rendered settings: each endpoint's metadata
        // (uploads: files × Inference:Images:MaxBytes + framing), and Server:MaxJsonBodyBytes for the rest.
        IServiceProvider services = hosts.For(overlay, rendered.Environment).Services;
        long largest = services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(static e => e.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? 0)
            .Append(services.GetRequiredService<IOptions<ServerOptions>>().Value.MaxJsonBodyBytes)
            .Max();

        Assert.Equal(largest, annotated);

        // The ingress routes to the Service's API port.
        JsonObject backend = ingress["spec"]!["rules"]![0]!["http"]!["paths"]![0]!["backend"]!["service"]!.AsObject();
        Assert.Equal((string?)rendered.OfKind("Service")["metadata"]!["name"], (string?)backend["name"]);
        Assert.Contains(rendered.OfKind("Service")["spec"]!["ports"]!.AsArray(), p => (string?)p!["name"] == (string?)backend["port"]!["name"]);
    }

    [Fact]
    public async Task ModelsVolume_ReplacesTheModelsDirectory_ReadOnly_WithOneRelease()
    {
        RenderedManifests rendered = await KubernetesManifests.RenderAsync("cpu", "models-volume");

        JsonObject mount = Assert.Single(rendered.Container["volumeMounts"]!.AsArray(), m => (string?)m!["name"] == "models")!.AsObject();
        Assert.Equal(rendered.Environment["Inference__ModelsDirectory"], (string?)mount["mountPath"]);
        Assert.True((bool)mount["readOnly"]!);
        Assert.StartsWith("releases/", (string?)mount["subPath"], StringComparison.Ordinal);
        JsonObject volume = Assert.Single(rendered.PodSpec["volumes"]!.AsArray(), v => (string?)v!["name"] == "models")!.AsObject();
        Assert.Equal("segserve-models", (string?)volume["persistentVolumeClaim"]?["claimName"]);
        Assert.True((bool)volume["persistentVolumeClaim"]!["readOnly"]!);
    }

    private static void AssertSelects(JsonObject labels, JsonObject selector, string what)
    {
        Assert.NotEmpty(selector);
        foreach ((string key, JsonNode? value) in selector)
        {
            Assert.True((string?)labels[key] == (string?)value, $"The {what} selects {key}={value}, which the pod template does not carry.");
        }
    }

    /// <summary>The rule of <c>gpu/prometheus-adapter-values.yaml</c> that names <paramref name="metric"/>.</summary>
    private static async Task<JsonObject> AdapterRuleAsync(string metric)
    {
        JsonObject values = await KubernetesManifests.ReadYamlAsync(Path.Combine(KubernetesManifests.Root, "gpu", "prometheus-adapter-values.yaml"));
        return Assert.Single(values["rules"]!["custom"]!.AsArray(), r => (string?)r!["name"]?["as"] == metric)!.AsObject();
    }

    /// <summary>The series a rule discovers (its seriesQuery's metric name).</summary>
    private static string SeriesOf(JsonObject rule) => Regex.Match((string)rule["seriesQuery"]!, "^[a-zA-Z_:][a-zA-Z0-9_:]*").Value;
}

/// <summary>One live host per overlay, configured from that overlay's rendered settings, shared by the tests.</summary>
public sealed class KubernetesHosts : IDisposable
{
    private readonly Dictionary<string, KubernetesConfiguredFactory> _hosts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public KubernetesConfiguredFactory For(string overlay, IReadOnlyDictionary<string, string> environment)
    {
        lock (_gate)
        {
            if (!_hosts.TryGetValue(overlay, out KubernetesConfiguredFactory? factory))
            {
                factory = new KubernetesConfiguredFactory(environment);
                try
                {
                    _ = factory.Address; // Starts Kestrel and waits for the models.
                }
                catch
                {
                    // A rendered setting the service refuses (options validation at start) fails the test that asked.
                    factory.Dispose();
                    throw;
                }

                _hosts[overlay] = factory;
            }

            return factory;
        }
    }

    public void Dispose()
    {
        foreach (KubernetesConfiguredFactory factory in _hosts.Values)
        {
            factory.Dispose();
        }
    }
}
