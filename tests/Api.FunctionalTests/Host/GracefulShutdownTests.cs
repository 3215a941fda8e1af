using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Api.FunctionalTests.Telemetry;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>
/// SIGTERM to the real server process under load: readiness turns 503 at once, new requests are refused with 503
/// <c>shutting-down</c> and <c>Retry-After</c>, every request it had admitted — an upload still half sent among them —
/// is answered in full, and the process exits 0.
/// </summary>
public sealed class GracefulShutdownTests
{
    private const int Workers = 8;
    private static readonly TimeSpan s_exitWithin = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sigterm_UnderLoad_AnswersEveryAdmittedRequest_RefusesNewOnes_AndExitsZero()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("SIGTERM is tested on Linux (the containers' platform).");
        }

        CancellationToken cancel = TestContext.Current.CancellationToken;
        string photo = Repository.PathOf("docs/examples/astronaut.jpg");
        DirectoryInfo data = Directory.CreateTempSubdirectory("segserve-shutdown-");
        int port = KestrelFactory.FreePort();
        var log = new StringBuilder();
        using Process server = StartServer(port, data.FullName, log);
        try
        {
            var address = new Uri($"http://127.0.0.1:{port}");
            using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
            await WaitUntilReadyAsync(client, server, log, cancel);

            // An upload admitted before SIGTERM and still sending its body when it comes: the drain must wait for it.
            (byte[] body, MediaTypeHeaderValue type) = await MultipartAsync(photo, cancel);
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var halfSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var slowClient = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
            slowClient.DefaultRequestHeaders.Accept.ParseAdd("image/png");
            var gated = new GatedContent(body, body.Length / 2, release.Task, halfSent);
            gated.Headers.ContentType = type;
            Task<HttpResponseMessage> slowUpload = slowClient.PostAsync("/v1/models/selfie/segment", gated, cancel);
            await halfSent.Task.WaitAsync(TimeSpan.FromSeconds(30), cancel);
            await WaitForActiveRequestAsync(client, cancel);

            // Load: workers post photos until the server stops listening.
            var outcomes = new List<Outcome>[Workers];
            Task[] load = new Task[Workers];
            for (int w = 0; w < Workers; w++)
            {
                List<Outcome> mine = outcomes[w] = [];
                load[w] = Task.Run(() => LoadAsync(address, body, type, mine), cancel);
            }

            await Task.Delay(TimeSpan.FromSeconds(2), cancel);
            long signalled = Stopwatch.GetTimestamp();
            Signal(server.Id);

            // Readiness turns 503 at once (well before the drain can end: the half-sent upload holds it open).
            using HttpResponseMessage ready = await PollUntilAsync(client, "/health/ready", HttpStatusCode.ServiceUnavailable, cancel);
            Assert.Contains("shutting-down", await ready.Content.ReadAsStringAsync(cancel), StringComparison.Ordinal);
            double readyAfterMs = Stopwatch.GetElapsedTime(signalled).TotalMilliseconds;
            Assert.True(readyAfterMs < 5000, $"readiness turned 503 only after {readyAfterMs:F0} ms");

            // A new request is refused, saying why and when to come back.
            using (var form = HttpHelpers.ImageForm(photo))
            using (HttpResponseMessage refused = await client.PostAsync("/v1/models/selfie/segment", form, cancel))
            {
                ProblemBody problem = await refused.ProblemAsync(503);
                Assert.Equal("urn:segserve:problem:shutting-down", problem.Type);
                Assert.NotNull(refused.Headers.RetryAfter);
            }

            // Every worker has been refused by now, as a load balancer would be, and sends no more here: the process
            // still runs, held open by the half-sent upload, so none of them can have met a closed port.
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(60), cancel);
            Assert.False(server.HasExited, "The server exited while an admitted upload was still sending its body.");
            Assert.All(outcomes, static o => Assert.Equal(OutcomeKind.Refused, o[^1].Kind));

            // The admitted upload completes and is answered in full.
            release.SetResult();
            using HttpResponseMessage slowResponse = await slowUpload.WaitAsync(TimeSpan.FromSeconds(60), cancel);
            Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
            await AssertPngAsync(slowResponse, cancel);

            await server.WaitForExitAsync(cancel).WaitAsync(s_exitWithin, cancel);

            Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}\n{Tail(log)}");
            Outcome[] all = [.. outcomes.SelectMany(static o => o)];
            Outcome[] lost = [.. all.Where(static o => o.Kind == OutcomeKind.Lost)];
            Assert.True(lost.Length == 0, $"{lost.Length} admitted requests were not answered: {string.Join("; ", lost.Take(5).Select(static o => o.Detail))}");
            Assert.Contains(all, static o => o.Kind == OutcomeKind.Served);
            string logged = log.ToString();
            Assert.Contains("Shutting down: refusing new requests", logged, StringComparison.Ordinal);
            Assert.Contains("Drained: every admitted request answered", logged, StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }

            data.Delete(recursive: true);
        }
    }

    private enum OutcomeKind
    {
        Served,
        Refused,
        Lost,
    }

    private sealed record Outcome(OutcomeKind Kind, string Detail);

    // Posts photos until refused (the replica drains: a client, or a load balancer, goes elsewhere) or until a request fails.
    private static async Task LoadAsync(Uri address, byte[] body, MediaTypeHeaderValue type, List<Outcome> outcomes)
    {
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Accept.ParseAdd("image/png");
        while (true)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = type;
            try
            {
                using HttpResponseMessage response = await client.PostAsync("/v1/models/selfie/segment", content, CancellationToken.None);
                byte[] answer = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                string problem = response.StatusCode == HttpStatusCode.OK ? "" : Encoding.UTF8.GetString(answer);
                outcomes.Add(response.StatusCode switch
                {
                    HttpStatusCode.OK when IsPng(answer) => new Outcome(OutcomeKind.Served, "200"),
                    HttpStatusCode.ServiceUnavailable when problem.Contains("shutting-down", StringComparison.Ordinal) && response.Headers.RetryAfter is not null
                        => new Outcome(OutcomeKind.Refused, "503"),
                    _ => new Outcome(OutcomeKind.Lost, $"{(int)response.StatusCode}: {problem}"),
                });
            }
            catch (HttpRequestException e)
            {
                // The server listens until the drain ends, and the drain waits for the test: any failure here is a
                // request dropped (or cut off while sending) by a server that should have answered it.
                outcomes.Add(new Outcome(OutcomeKind.Lost, $"{e.HttpRequestError}: {e.Message}"));
                return;
            }

            if (outcomes[^1].Kind != OutcomeKind.Served)
            {
                return;
            }
        }
    }

    private static Process StartServer(int port, string data, StringBuilder log)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string dll = Repository.PathOf($"src/Api/bin/{configuration}/net10.0/SegServe.Api.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built (dotnet build src/Api builds it; the test project's build does too).");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.PathOf("src/Api"),
            ArgumentList =
            {
                dll,
                "--urls", $"http://127.0.0.1:{port}",
                $"--Inference:ModelsDirectory={Repository.PathOf("models")}",
                "--Inference:ExecutionProvider=Cpu",
                $"--Evaluation:DatabasePath={Path.Combine(data, "evaluations.db")}",
                "--Server:ShutdownDrainSeconds=30",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:SegServe.Api.Hosting.GracefulShutdown=Information",
                "--Logging:Console:FormatterName=simple",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Authentication__AllowAnonymous"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        Process server = Process.Start(start)!;
        server.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        server.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        return server;
    }

    private static async Task WaitUntilReadyAsync(HttpClient client, Process server, StringBuilder log, CancellationToken cancel)
    {
        for (int i = 0; i < 480; i++)
        {
            Assert.False(server.HasExited, $"The server exited while starting:\n{Tail(log)}");
            try
            {
                using HttpResponseMessage ready = await client.GetAsync("/health/ready", cancel);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250, cancel);
        }

        Assert.Fail($"The server was not ready in 120 s:\n{Tail(log)}");
    }

    // ASP.NET Core's own gauge of requests in the pipeline: the half-sent upload is admitted once it shows.
    private static async Task WaitForActiveRequestAsync(HttpClient client, CancellationToken cancel)
    {
        for (int i = 0; i < 200; i++)
        {
            string metrics = await client.GetStringAsync("/metrics", cancel);
            foreach (string line in metrics.Split('\n'))
            {
                if (line.StartsWith("http_server_active_requests{", StringComparison.Ordinal) && line.Contains("\"POST\"", StringComparison.Ordinal)
                    && double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture) >= 1)
                {
                    return;
                }
            }

            await Task.Delay(100, cancel);
        }

        Assert.Fail("The half-sent upload never showed in http_server_active_requests.");
    }

    private static async Task<HttpResponseMessage> PollUntilAsync(HttpClient client, string path, HttpStatusCode expected, CancellationToken cancel)
    {
        for (int i = 0; i < 500; i++)
        {
            HttpResponseMessage response = await client.GetAsync(path, cancel);
            if (response.StatusCode == expected)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(10, cancel);
        }

        throw new Xunit.Sdk.XunitException($"{path} never answered {(int)expected}.");
    }

    private static void Signal(int pid)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", pid.ToString(CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task<(byte[] Body, MediaTypeHeaderValue Type)> MultipartAsync(string photo, CancellationToken cancel)
    {
        using MultipartFormDataContent form = HttpHelpers.ImageForm(photo);
        return (await form.ReadAsByteArrayAsync(cancel), form.Headers.ContentType!);
    }

    private static async Task AssertPngAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        byte[] png = await response.Content.ReadAsByteArrayAsync(cancel);
        Assert.True(IsPng(png), $"not a PNG: {response.Content.Headers.ContentType}");
    }

    private static bool IsPng(byte[] bytes) => bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);

    private static string Tail(StringBuilder log)
    {
        lock (log)
        {
            string text = log.ToString();
            return text.Length > 4000 ? text[^4000..] : text;
        }
    }

    /// <summary>A request body sent in two parts: the first at once, the rest when the test releases it.</summary>
    private sealed class GatedContent(byte[] body, int firstPart, Task release, TaskCompletionSource firstSent) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, firstPart));
            await stream.FlushAsync();
            firstSent.TrySetResult();
            await release;
            await stream.WriteAsync(body.AsMemory(firstPart));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
