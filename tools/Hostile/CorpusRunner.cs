using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace SegServe.Tools.Hostile;

/// <summary>The outcome of one request: status (0 = no response), seconds from first byte sent to last byte read.</summary>
public sealed record Outcome(int Id, string Category, string Name, int Status, double Seconds, long ValidPixels, bool RetryAfter, string? Error)
{
    /// <summary>A 5xx the corpus expects (see <see cref="HostileRequest.ExpectedServerError"/>).</summary>
    public bool Expected { get; init; }
}

/// <summary>Sends the corpus to a live server: slow requests in the background throughout, the rest at bounded
/// concurrency, then every spike request at once.</summary>
public sealed class CorpusRunner(Uri baseUri, int concurrency) : IDisposable
{
    private static readonly TimeSpan RawTimeout = TimeSpan.FromSeconds(20);
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
        RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        AllowAutoRedirect = false,
    })
    { Timeout = TimeSpan.FromSeconds(120) };

    private readonly Dictionary<string, string> _placeholders = [];

    public string Authority => baseUri.GetLeftPart(UriPartial.Authority);

    /// <summary>Creates the evaluation runs the corpus sends samples to.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _placeholders[CorpusGenerator.SemanticRun] = await CreateRunAsync("""{"task":"semantic","numClasses":2}""", cancellationToken).ConfigureAwait(false);
        _placeholders[CorpusGenerator.InstancesRun] = await CreateRunAsync("""{"task":"instances"}""", cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> CreateRunAsync(string json, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _http.PostAsync(new Uri(Authority + "/v1/evaluations"), content, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"creating an evaluation run failed: {(int)response.StatusCode} {body}");
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("id").ToString();
    }

    private string Resolve(string text)
    {
        foreach ((string key, string value) in _placeholders)
        {
            text = text.Replace(key, value, StringComparison.Ordinal);
        }

        return text;
    }

    public async Task<List<Outcome>> RunAsync(IReadOnlyList<HostileRequest> corpus, Action<int>? progress, CancellationToken cancellationToken)
    {
        var outcomes = new List<Outcome>(corpus.Count);
        var gate = new Lock();
        void Record(Outcome outcome)
        {
            lock (gate)
            {
                outcomes.Add(outcome);
                if (outcomes.Count % 250 == 0)
                {
                    progress?.Invoke(outcomes.Count);
                }
            }
        }

        List<HostileRequest> slow = [.. corpus.Where(r => r.Transport == Transport.Slow)];
        List<HostileRequest> spikes = [.. corpus.Where(r => r.Category == "spike")];
        List<HostileRequest> rest = [.. corpus.Where(r => r.Transport != Transport.Slow && r.Category != "spike")];

        Task slowTask = Task.WhenAll(slow.Select(async r => Record(await SendAsync(r, cancellationToken).ConfigureAwait(false))));
        await Parallel.ForEachAsync(rest, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (r, ct) => Record(await SendAsync(r, ct).ConfigureAwait(false))).ConfigureAwait(false);
        await Task.WhenAll(spikes.Select(async r => Record(await SendAsync(r, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        await slowTask.ConfigureAwait(false);
        outcomes.Sort((a, b) => a.Id.CompareTo(b.Id));
        return outcomes;
    }

    public async Task<Outcome> SendAsync(HostileRequest request, CancellationToken cancellationToken)
    {
        try
        {
            Outcome outcome = request.Transport switch
            {
                Transport.Http => await SendHttpAsync(request, cancellationToken).ConfigureAwait(false),
                _ => await SendRawAsync(request, cancellationToken).ConfigureAwait(false),
            };
            return outcome with { Expected = request.ExpectedServerError == outcome.Status };
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException or TaskCanceledException or UriFormatException)
        {
            return new Outcome(request.Id, request.Category, request.Name, 0, 0, request.ValidPixels, false, e.GetType().Name + ": " + e.Message);
        }
    }

    private async Task<Outcome> SendHttpAsync(HostileRequest r, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(new HttpMethod(r.Method), new Uri(Authority + Resolve(r.Path)));
        if (r.ContentType is not null || r.Body.Length > 0)
        {
            var content = new ByteArrayContent(r.Body);
            if (r.ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType);
            }

            message.Content = content;
        }

        foreach ((string name, string value) in r.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        var clock = Stopwatch.StartNew();
        using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        int status = (int)response.StatusCode;
        string? error = status >= 500 ? Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 400))) : null;
        return new Outcome(r.Id, r.Category, r.Name, status, seconds, r.ValidPixels, response.Headers.RetryAfter is not null, error);
    }

    private async Task<Outcome> SendRawAsync(HostileRequest r, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(baseUri.Host, baseUri.Port, cancellationToken).ConfigureAwait(false);
        NetworkStream stream = client.GetStream();
        string latin = Encoding.Latin1.GetString(r.Body);
        byte[] message = latin.Contains("{run:", StringComparison.Ordinal) ? Encoding.Latin1.GetBytes(Resolve(latin)) : r.Body;
        var clock = Stopwatch.StartNew();
        string? writeError = null;
        try
        {
            if (r.Transport == Transport.Slow)
            {
                var limit = Stopwatch.StartNew();
                for (int at = 0; at < message.Length && limit.Elapsed < TimeSpan.FromSeconds(40); at += r.SlowChunkBytes)
                {
                    await stream.WriteAsync(message.AsMemory(at, Math.Min(r.SlowChunkBytes, message.Length - at)), cancellationToken).ConfigureAwait(false);
                    if (client.Client.Available > 0)
                    {
                        break; // the server answered before the body ended
                    }

                    await Task.Delay(r.SlowPauseMs, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException e)
        {
            writeError = "write: " + e.Message; // the server may have answered and closed early: read what it said
        }

        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RawTimeout);
        string? readError = null;
        try
        {
            while (true)
            {
                int n = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                if (received.Length < 1 << 20)
                {
                    received.Write(buffer, 0, n);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            readError = "no end of response within " + RawTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s";
        }
        catch (IOException e)
        {
            readError = "read: " + e.Message;
        }

        double seconds = clock.Elapsed.TotalSeconds;
        string text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        (int status, bool retryAfter) = ParseStatus(text);
        string? error = status == 0 || status >= 500 ? string.Join("; ", new[] { writeError, readError, Shorten(text) }.Where(s => !string.IsNullOrEmpty(s))) : null;
        return new Outcome(r.Id, r.Category, r.Name, status, seconds, r.ValidPixels, retryAfter, error);
    }

    /// <summary>The first final (non-1xx) status of a raw response, and whether it carries Retry-After.</summary>
    public static (int Status, bool RetryAfter) ParseStatus(string response)
    {
        int at = 0;
        while ((at = response.IndexOf("HTTP/1.", at, StringComparison.Ordinal)) >= 0)
        {
            if (at + 12 <= response.Length && int.TryParse(response.AsSpan(at + 9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int status) && status >= 200)
            {
                int headEnd = response.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
                string head = headEnd < 0 ? response[at..] : response[at..headEnd];
                return (status, head.Contains("\r\nRetry-After:", StringComparison.OrdinalIgnoreCase));
            }

            at += 7;
        }

        return (0, false);
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300];

    /// <summary>Segments a photo as a class-index PNG (the correctness reference); null when the server did not answer 200.</summary>
    public async Task<byte[]?> SegmentPhotoAsync(byte[] photo, string mediaType, CancellationToken cancellationToken)
    {
        (byte[] body, string contentType) = Crafted.Multipart("reference", ("image", "photo", mediaType, photo));
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(Authority + "/v1/models/selfie/segment"));
        message.Content = new ByteArrayContent(body);
        message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/png"));
        using HttpResponseMessage response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false) : null;
    }

    public async Task<int> GetStatusAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _http.GetAsync(new Uri(Authority + path), cancellationToken).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    public void Dispose() => _http.Dispose();
}
