using System.Text.Json;
using Microsoft.Extensions.Configuration;
using SegServe.Api.Evaluations;
using SegServe.Api.Health;
using SegServe.Api.Hosting;
using SegServe.Api.Security;
using SegServe.Inference;
using SegServe.Tests.Shared;
using static SegServe.Api.FunctionalTests.Deployment.ComposeFiles;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// docker-compose.yml and the files of its stack (deploy/prometheus, deploy/grafana, deploy/otel-collector): Compose
/// itself accepts the file, every file it names exists, Prometheus' own <c>promtool</c> accepts the configuration and
/// the alert rules, and the services, ports and data source uids the files give each other agree. No container runs
/// (no engine here); <see cref="ComposeDashboardTests"/> puts the queries to a real Prometheus.
/// </summary>
public sealed class ComposeStackTests
{
    private static readonly string[] s_services = ["segserve", "segserve-gpu", "prometheus", "grafana", "otel-collector", "jaeger"];

    /// <summary>The service's settings sections (as the README's configuration table lists them) and their options classes.</summary>
    private static readonly Dictionary<string, Type> s_sections = new(StringComparer.OrdinalIgnoreCase)
    {
        [InferenceOptions.SectionName] = typeof(InferenceOptions),
        [EvaluationOptions.SectionName] = typeof(EvaluationOptions),
        [ServerOptions.SectionName] = typeof(ServerOptions),
        [HealthOptions.SectionName] = typeof(HealthOptions),
        [TelemetryOptions.SectionName] = typeof(TelemetryOptions),
        [ApiKeyOptions.SectionName] = typeof(ApiKeyOptions),
        [RateLimitOptions.SectionName] = typeof(RateLimitOptions),
        [CorsSettings.SectionName] = typeof(CorsSettings),
    };

    /// <summary>ASP.NET Core's own settings the compose file may set.</summary>
    private static readonly HashSet<string> s_hostVariables = new(StringComparer.OrdinalIgnoreCase) { "URLS" };

    [Fact]
    public async Task DockerCompose_AcceptsTheFile_WithAndWithoutTheGpuProfile()
    {
        // Compose v2 (the docker CLI plugin) or v1 (Debian's docker-compose): `config` validates the file against
        // Compose's schema and resolves it without an engine.
        string[] command;
        if (OnPath("docker") is string docker && (await RunAsync(docker, "compose", "version")).ExitCode == 0)
        {
            command = [docker, "compose"];
        }
        else if (OnPath("docker-compose") is string compose)
        {
            command = [compose];
        }
        else
        {
            Assert.Skip("Neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose; .ci/setup.d/40-compose.sh does it): Compose's own validation of docker-compose.yml is not tested here.");
            return;
        }

        foreach (string[] profile in new[] { Array.Empty<string>(), ["--profile", "gpu"] })
        {
            (int exitCode, string output) = await RunAsync(command[0], [.. command[1..], "-f", ComposeFile, .. profile, "config", "--quiet"]);
            Assert.True(exitCode == 0, $"{string.Join(' ', command)} {string.Join(' ', profile)} config: exit {exitCode}\n{output}");
        }

        (int listed, string services) = await RunAsync(command[0], [.. command[1..], "-f", ComposeFile, "--profile", "gpu", "config", "--services"]);
        Assert.Equal(0, listed);
        Assert.Equal(s_services.Order(StringComparer.Ordinal), services.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Compose_NamesOnlyFilesThatExist_AndTheServicesOfTheStack()
    {
        Dictionary<object, object?> compose = Yaml(ComposeFile);
        Dictionary<object, object?> services = MapAt(compose, "services");
        Assert.Equal(s_services.Order(StringComparer.Ordinal), services.Keys.Cast<string>().Order(StringComparer.Ordinal));

        var missing = new List<string>();
        foreach ((object key, object? value) in services)
        {
            string name = (string)key;
            Dictionary<object, object?> service = Map(value, name);
            foreach (string source in BindSources(service, name))
            {
                if (!File.Exists(Repository.PathOf(source)) && !Directory.Exists(Repository.PathOf(source)))
                {
                    missing.Add($"{name}: {source}");
                }
            }

            if (Optional(service, "build") is Dictionary<object, object?> build)
            {
                string context = Text(At(build, "context"), $"{name}.build.context");
                string dockerfile = Path.Combine(Repository.PathOf(context), Optional(build, "dockerfile") as string ?? "Dockerfile");
                Assert.True(File.Exists(dockerfile), $"{name}: {dockerfile} is missing.");
                if (Optional(build, "target") is string target)
                {
                    Assert.Matches($@"(?im)^FROM\s+\S+\s+AS\s+{target}\s*$", File.ReadAllText(dockerfile));
                }
            }
            else
            {
                // Third-party images are pinned: a tag, not latest.
                string image = Text(At(service, "image"), $"{name}.image");
                Assert.Matches(@"^[\w./-]+:[\w.-]+$", image);
                Assert.DoesNotContain(":latest", image, StringComparison.Ordinal);
            }

            foreach (object? file in Optional(service, "env_file") is List<object?> files ? files : Optional(service, "env_file") is string one ? [one] : [])
            {
                if (!File.Exists(Repository.PathOf(Text(file, $"{name}.env_file"))))
                {
                    missing.Add($"{name}: env_file {file}");
                }
            }
        }

        Assert.True(missing.Count == 0, "Files named by docker-compose.yml that are not in the repository: " + string.Join(", ", missing));
    }

    [Fact]
    public void Compose_RunsTheServiceReadOnly_WithHealthCheck_Drain_AndTheGpuOnlyInItsProfile()
    {
        Dictionary<object, object?> services = MapAt(Yaml(ComposeFile), "services");
        foreach (string name in new[] { "segserve", "segserve-gpu" })
        {
            Dictionary<object, object?> service = MapAt(services, name);
            Assert.Equal("true", Text(At(service, "read_only"), $"{name}.read_only"));
            Assert.Contains("/tmp", List(At(service, "tmpfs"), $"{name}.tmpfs"));
            Assert.Contains(List(At(service, "volumes"), $"{name}.volumes"), v => v is string volume && volume.EndsWith(":/data", StringComparison.Ordinal));
            Assert.Contains("/health/ready", string.Join(' ', List(At(service, "healthcheck", "test"), $"{name}.healthcheck.test")), StringComparison.Ordinal);

            // Kestrel listens on every interface at the port published (appsettings.json alone would say localhost).
            Dictionary<string, string> environment = Environment(service, name);
            Assert.Equal("http://+:8080", environment["URLS"]);
            Assert.Contains(List(At(service, "ports"), $"{name}.ports"), p => p is string port && port.EndsWith(":8080", StringComparison.Ordinal));

            // Docker's SIGKILL must not cut the drain short.
            double drain = double.Parse(environment.GetValueOrDefault("Server__ShutdownDrainSeconds", "30"), System.Globalization.CultureInfo.InvariantCulture);
            double grace = Seconds(Text(At(service, "stop_grace_period"), $"{name}.stop_grace_period"));
            Assert.True(grace > drain, $"{name}: stop_grace_period {grace} s is not longer than the drain ({drain} s).");

            // Every variable is a setting of the service: binding fails on a name its options class lacks, or a value
            // it cannot take.
            IConfiguration configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(environment.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value)))
                .Build();
            foreach (IConfigurationSection section in configuration.GetChildren())
            {
                if (section.Value is not null)
                {
                    Assert.True(s_hostVariables.Contains(section.Key), $"{name}: {section.Key} is not a setting of the service.");
                    continue;
                }

                Assert.True(s_sections.TryGetValue(section.Key, out Type? options), $"{name}: {section.Key}__* is not a section of the service's settings.");
                Exception? error = Record.Exception(() => section.Get(options, o => o.ErrorOnUnknownConfiguration = true));
                Assert.True(error is null, $"{name}: {section.Key}: {error?.Message}");
            }

            TelemetryOptions telemetry = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>()!;
            Assert.NotNull(telemetry.MetricsPort);
            Assert.NotNull(telemetry.Otlp.Endpoint);
        }

        Assert.Null(Optional(MapAt(services, "segserve"), "profiles"));
        Dictionary<object, object?> gpu = MapAt(services, "segserve-gpu");
        Assert.Equal(["gpu"], List(At(gpu, "profiles"), "segserve-gpu.profiles"));
        Dictionary<object, object?> device = Map(Assert.Single(List(At(gpu, "deploy", "resources", "reservations", "devices"), "segserve-gpu devices")), "device");
        Assert.Equal("nvidia", At(device, "driver"));
        Assert.Contains("gpu", List(At(device, "capabilities"), "capabilities"));
        Assert.Equal("Cuda", Environment(gpu, "segserve-gpu")["Inference__ExecutionProvider"]);
    }

    [Fact]
    public async Task Promtool_AcceptsThePrometheusConfiguration_AndTheAlertRules_AndTheirTestsPass()
    {
        const string Promtool = "/usr/bin/promtool";
        if (!File.Exists(Promtool))
        {
            Assert.Skip($"{Promtool} is not installed (apt-get install prometheus; .ci/setup.d/10-prometheus.sh does it): the Prometheus configuration is not checked here.");
        }

        // check config also loads the rule files the configuration names.
        (int config, string configOutput) = await RunAsync(Promtool, "check", "config", PrometheusConfig);
        Assert.True(config == 0, configOutput);
        Assert.Contains("SUCCESS: 1 rule files found", configOutput, StringComparison.Ordinal);
        (int rules, string rulesOutput) = await RunAsync(Promtool, "check", "rules", AlertRules);
        Assert.True(rules == 0, rulesOutput);

        // The rules' own unit tests: each alert fires on the series it is about, with its labels and summary, and not before.
        (int tests, string testsOutput) = await RunAsync(Promtool, "test", "rules", AlertRuleTests);
        Assert.True(tests == 0, testsOutput);
        Assert.Contains("SUCCESS", testsOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void StackFiles_AgreeOnServicesPortsAndPaths()
    {
        Dictionary<object, object?> services = MapAt(Yaml(ComposeFile), "services");
        Dictionary<object, object?> prometheus = Yaml(PrometheusConfig);
        Dictionary<object, object?> collector = Yaml(CollectorConfig);

        // The service's metrics port is what Prometheus scrapes, on the service's names, at /metrics.
        Dictionary<object, object?> job = ScrapeJob(prometheus, "segserve");
        Assert.Equal(TelemetryOptions.MetricsPath, At(job, "metrics_path"));
        Dictionary<object, object?> discovery = Map(Assert.Single(List(At(job, "dns_sd_configs"), "dns_sd_configs")), "dns_sd_configs[0]");
        Assert.Equal(["segserve", "segserve-gpu"], List(At(discovery, "names"), "names"));
        foreach (string name in new[] { "segserve", "segserve-gpu" })
        {
            Dictionary<string, string> environment = Environment(MapAt(services, name), name);
            Assert.Equal(At(discovery, "port"), environment["Telemetry__MetricsPort"]);

            // Spans go to the collector's OTLP receiver, in the protocol it listens for.
            var otlp = new Uri(environment["Telemetry__Otlp__Endpoint"]);
            Assert.Equal("otel-collector", otlp.Host);
            string protocol = environment["Telemetry__Otlp__Protocol"] == "grpc" ? "grpc" : "http";
            Assert.EndsWith($":{otlp.Port}", Text(At(collector, "receivers", "otlp", "protocols", protocol, "endpoint"), "otlp receiver endpoint"), StringComparison.Ordinal);
        }

        // The collector reads the file mounted where its command says, and what it exports goes to the stack's services.
        Dictionary<object, object?> collectorService = MapAt(services, "otel-collector");
        string configPath = Text(Assert.Single(List(At(collectorService, "command"), "otel-collector.command")), "command").Replace("--config=", "", StringComparison.Ordinal);
        Assert.Contains($"./{CollectorConfig}:{configPath}:ro", List(At(collectorService, "volumes"), "otel-collector.volumes"));
        Assert.StartsWith("jaeger:", Text(At(collector, "exporters", "otlp/jaeger", "endpoint"), "otlp/jaeger endpoint"), StringComparison.Ordinal);
        string spanMetricsPort = Text(At(collector, "exporters", "prometheus", "endpoint"), "prometheus exporter endpoint").Split(':')[^1];
        Assert.Equal([$"otel-collector:{spanMetricsPort}"], List(At(Map(Assert.Single(List(At(ScrapeJob(prometheus, "otel-collector-spanmetrics"), "static_configs"), "static_configs")), "static"), "targets"), "targets"));

        // Prometheus reads the files mounted beside its configuration (rule files are relative to it).
        List<object?> prometheusVolumes = List(At(MapAt(services, "prometheus"), "volumes"), "prometheus.volumes");
        Assert.Contains($"./{PrometheusConfig}:/etc/prometheus/prometheus.yml:ro", prometheusVolumes);
        foreach (string rules in List(At(prometheus, "rule_files"), "rule_files").Select(r => Text(r, "rule_files")))
        {
            Assert.Contains($"./deploy/prometheus/{rules}:/etc/prometheus/{rules}:ro", prometheusVolumes);
        }
    }

    [Fact]
    public void CollectorPipelines_UseOnlyDefinedComponents_AndUseAllOfThem()
    {
        Dictionary<object, object?> collector = Yaml(CollectorConfig);
        HashSet<string> Defined(string kind) => Optional(collector, kind) is Dictionary<object, object?> section ? [.. section.Keys.Cast<string>()] : [];
        HashSet<string> receivers = Defined("receivers"), processors = Defined("processors"), exporters = Defined("exporters"), connectors = Defined("connectors");
        var used = new HashSet<string>(StringComparer.Ordinal);
        var connectorsIn = new HashSet<string>(StringComparer.Ordinal);
        var connectorsOut = new HashSet<string>(StringComparer.Ordinal);

        foreach ((object key, object? value) in MapAt(collector, "service", "pipelines"))
        {
            string pipeline = (string)key;
            Assert.Matches(@"^(traces|metrics|logs)(/[\w-]+)?$", pipeline);
            Dictionary<object, object?> definition = Map(value, pipeline);
            List<string> Names(string kind) => Optional(definition, kind) is List<object?> list ? [.. list.Select(n => Text(n, $"{pipeline}.{kind}"))] : [];

            Assert.NotEmpty(Names("receivers"));
            Assert.NotEmpty(Names("exporters"));
            foreach (string name in Names("receivers"))
            {
                Assert.True(receivers.Contains(name) || connectors.Contains(name), $"pipeline {pipeline}: receiver {name} is not defined.");
                if (connectors.Contains(name))
                {
                    connectorsOut.Add(name);
                }
            }

            foreach (string name in Names("processors"))
            {
                Assert.True(processors.Contains(name), $"pipeline {pipeline}: processor {name} is not defined.");
            }

            foreach (string name in Names("exporters"))
            {
                Assert.True(exporters.Contains(name) || connectors.Contains(name), $"pipeline {pipeline}: exporter {name} is not defined.");
                if (connectors.Contains(name))
                {
                    connectorsIn.Add(name);
                }
            }

            used.UnionWith(Names("receivers").Concat(Names("processors")).Concat(Names("exporters")));
        }

        // A connector joins two pipelines: it exports from one and receives in another.
        Assert.Equal(connectors, connectorsIn);
        Assert.Equal(connectors, connectorsOut);
        Assert.Empty(receivers.Concat(processors).Concat(exporters).Concat(connectors).Except(used));
    }

    [Fact]
    public void GrafanaProvisioning_LoadsTheDashboards_AndDefinesEveryDataSourceTheyUse()
    {
        Dictionary<object, object?> grafana = MapAt(Yaml(ComposeFile), "services", "grafana");
        List<object?> volumes = List(At(grafana, "volumes"), "grafana.volumes");
        Assert.Contains("./deploy/grafana/provisioning:/etc/grafana/provisioning:ro", volumes);

        // The provider's folder is where the dashboards are mounted.
        Dictionary<object, object?> provider = Map(Assert.Single(List(At(Yaml(DashboardProviders), "providers"), "providers")), "providers[0]");
        Assert.Equal("file", At(provider, "type"));
        string path = Text(At(provider, "options", "path"), "providers[0].options.path");
        Assert.Contains($"./{Path.GetDirectoryName(Dashboard)}:{path}:ro", volumes);
        Assert.Equal($"{path}/{Path.GetFileName(Dashboard)}", Environment(grafana, "grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]);

        // Data sources: uid → type, each at a service of the stack.
        Dictionary<object, object?> services = MapAt(Yaml(ComposeFile), "services");
        var dataSources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (object? entry in List(At(Yaml(DataSources), "datasources"), "datasources"))
        {
            Dictionary<object, object?> source = Map(entry, "datasource");
            dataSources.Add(Text(At(source, "uid"), "uid"), Text(At(source, "type"), "type"));
            var url = new Uri(Text(At(source, "url"), "url"));
            Assert.True(services.ContainsKey(url.Host), $"data source {At(source, "uid")}: {url.Host} is not a service of docker-compose.yml.");
        }

        using JsonDocument dashboard = Json(Dashboard);
        var used = new List<(string Where, string Uid, string Type)>();
        foreach (JsonElement element in Descendants(dashboard.RootElement))
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("datasource", out JsonElement source) && source.ValueKind == JsonValueKind.Object)
            {
                string where = element.TryGetProperty("title", out JsonElement title) ? title.GetString()! : element.TryGetProperty("name", out JsonElement name) ? name.GetString()! : "a target";
                used.Add((where, source.GetProperty("uid").GetString()!, source.GetProperty("type").GetString()!));
            }
        }

        Assert.NotEmpty(used);
        foreach ((string where, string uid, string type) in used)
        {
            Assert.True(dataSources.TryGetValue(uid, out string? provisioned), $"{where}: data source uid {uid} is not provisioned.");
            Assert.Equal(provisioned, type);
        }

        Assert.Equal(dataSources.Keys.Order(StringComparer.Ordinal), used.Select(u => u.Uid).Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>Every element of a JSON document, depth first.</summary>
    internal static IEnumerable<JsonElement> Descendants(JsonElement element)
    {
        yield return element;
        IEnumerable<JsonElement> children = element.ValueKind switch
        {
            JsonValueKind.Object => element.EnumerateObject().Select(p => p.Value),
            JsonValueKind.Array => element.EnumerateArray(),
            _ => [],
        };
        foreach (JsonElement child in children)
        {
            foreach (JsonElement descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }

    internal static Dictionary<object, object?> ScrapeJob(Dictionary<object, object?> prometheus, string name) =>
        Map(List(At(prometheus, "scrape_configs"), "scrape_configs").SingleOrDefault(j => j is Dictionary<object, object?> job && Equals(Optional(job, "job_name"), name))
            ?? throw new Xunit.Sdk.XunitException($"{PrometheusConfig} has no job {name}."), name);

    /// <summary>The host side of each bind mount of a service (short syntax ./x:/y[:ro], or long syntax type: bind).</summary>
    private static IEnumerable<string> BindSources(Dictionary<object, object?> service, string name)
    {
        foreach (object? volume in Optional(service, "volumes") as List<object?> ?? [])
        {
            string? source = volume switch
            {
                string text => text.Split(':')[0],
                Dictionary<object, object?> mount when Equals(Optional(mount, "type"), "bind") => Text(At(mount, "source"), $"{name}.volumes.source"),
                _ => null,
            };
            if (source is not null && (source.StartsWith('.') || source.StartsWith('/')))
            {
                yield return source;
            }
        }
    }
}
