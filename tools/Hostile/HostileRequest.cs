namespace SegServe.Tools.Hostile;

/// <summary>How a request travels: through HttpClient, as exact bytes on a raw socket, or trickled slowly.</summary>
public enum Transport
{
    Http,
    Raw,
    Slow,
}

/// <summary>
/// One request of the corpus. <see cref="Path"/> may hold <c>{run:semantic}</c> or <c>{run:instances}</c>, replaced
/// by the id of an evaluation run the runner creates first. Raw and slow requests carry the whole HTTP message in
/// <see cref="Body"/> (with <c>{path}</c>-free request lines: the runner sends them as they are, after the same
/// placeholder substitution on the request line).
/// </summary>
public sealed record HostileRequest
{
    public required int Id { get; init; }

    public required string Category { get; init; }

    public required string Name { get; init; }

    public Transport Transport { get; init; } = Transport.Http;

    public string Method { get; init; } = "POST";

    public string Path { get; init; } = "/v1/models/selfie/segment";

    /// <summary>Extra request headers (HttpClient transport).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The request body's Content-Type (HttpClient transport); null sends no body header.</summary>
    public string? ContentType { get; init; }

    /// <summary>The body (HttpClient) or the whole message (raw, slow).</summary>
    public byte[] Body { get; init; } = [];

    /// <summary>Pixels of a valid image that may legitimately take longer (0.05 s per megapixel); 0 otherwise.</summary>
    public long ValidPixels { get; init; }

    /// <summary>Slow transport: bytes per write and the pause between writes.</summary>
    public int SlowChunkBytes { get; init; } = 1;

    public int SlowPauseMs { get; init; }

    /// <summary>A 5xx that is the documented answer (505 to an HTTP version the server does not speak, 503
    /// deadline-exceeded to a client's own deadline of 1 ms): not a failure, though still counted in the histogram.</summary>
    public int? ExpectedServerError { get; init; }

    public override string ToString() => $"#{Id} {Category}/{Name}";
}
