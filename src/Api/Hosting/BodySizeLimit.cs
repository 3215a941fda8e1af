using Microsoft.AspNetCore.Http.Metadata;
using SegServe.Api.Uploads;

namespace SegServe.Api.Hosting;

/// <summary>Settings of the HTTP server the host adds to Kestrel's own (<c>Kestrel:Limits:*</c>), bound from <c>Server</c>.</summary>
public sealed class ServerOptions
{
    public const string SectionName = "Server";

    /// <summary>Largest JSON request body, and the body limit of every endpoint that takes no upload (bytes).</summary>
    [System.ComponentModel.DataAnnotations.Range(1024, 1L << 30)]
    public long MaxJsonBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a stopping service (SIGTERM) waits for the requests it had admitted, refusing new ones, before its
    /// services stop (seconds). An orchestrator's grace period must exceed it: the host's own shutdown timeout is this
    /// plus <see cref="ShutdownMarginSeconds"/>.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3600)]
    public int ShutdownDrainSeconds { get; set; } = 30;

    /// <summary>What the host's shutdown timeout adds to the drain: Kestrel closing connections, the queues and models stopping.</summary>
    public const int ShutdownMarginSeconds = 10;
}

/// <summary>
/// An endpoint's request-body limit, which routing applies before the handler runs (Kestrel then refuses a larger body
/// while it streams): uploads get room for their files, JSON bodies far less, so that the largest body any endpoint
/// takes does not become every endpoint's limit.
/// </summary>
public sealed class BodySizeLimit(long bytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize { get; } = bytes;
}

public static class BodySizeLimits
{
    /// <summary>The endpoints take up to <paramref name="files"/> uploaded files, each within the image byte limit.</summary>
    public static TBuilder AcceptsUploads<TBuilder>(this TBuilder builder, int files)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        long maxBytes = 0;
        builder.Add(endpoint =>
        {
            maxBytes = maxBytes == 0 ? ImageMaxBytes(endpoint.ApplicationServices) : maxBytes;
            endpoint.Metadata.Add(new BodySizeLimit(UploadReader.BodyLimit(maxBytes, files)));
        });
        return builder;
    }

    private static long ImageMaxBytes(IServiceProvider services) =>
        services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Inference.InferenceOptions>>().Value.Images.MaxBytes;
}

/// <summary>
/// Applies each endpoint's body limit (its <see cref="IRequestSizeLimitMetadata"/>, else the JSON limit) to the request:
/// through the server's <see cref="Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature"/> where it has
/// one (Kestrel), and otherwise by refusing a declared length over the limit and counting what is read — so the limit
/// holds on every server the host runs on, the in-memory test server included.
/// </summary>
internal static class BodySizeLimitMiddleware
{
    public static IApplicationBuilder UseBodySizeLimits(this IApplicationBuilder app, long defaultLimit) =>
        app.Use((context, next) =>
        {
            long limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? defaultLimit;
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }
            else if (context.Request.ContentLength > limit)
            {
                throw new BadHttpRequestException($"The request body is {context.Request.ContentLength} bytes; this endpoint takes at most {limit}.", StatusCodes.Status413PayloadTooLarge);
            }
            else if (context.Request.Body.CanRead)
            {
                context.Request.Body = new LimitedStream(context.Request.Body, limit);
            }

            return next(context);
        });

    /// <summary>A request body that refuses to be read past its limit.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            return _read > limit
                ? throw new BadHttpRequestException($"The request body is larger than the {limit} bytes this endpoint takes.", StatusCodes.Status413PayloadTooLarge)
                : read;
        }
    }
}
